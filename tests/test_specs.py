"""The engine reads which checks each instructor test cell runs (no sandbox needed)."""

from __future__ import annotations

import pytest

from conftest import ROOT, assignments
from grader_utils.grading.specs import read_specs
from grader_utils.judge.registry import ARRAY_EXERCISES


@pytest.mark.parametrize("assignment", assignments())
def test_every_test_cell_is_understood(assignment):
    for nb in (ROOT / "source" / assignment).glob("*.ipynb"):
        specs = read_specs(nb)
        assert specs, nb
        for spec in specs:
            assert spec.calls, f"{spec.grade_id} calls no check_* function"
            for call in spec.calls:
                if call.check in ARRAY_EXERCISES:
                    assert call.func and call.suite, spec.grade_id


def test_every_test_cell_is_graded_by_the_engine():
    """No verdict is left to the student's kernel: plain-data checks, the counted calls of
    conv2d_fast and the Keras models of 03 are all judged in the grading process."""
    specs = [s for a in assignments() for nb in (ROOT / "source" / a).glob("*.ipynb") for s in read_specs(nb)]
    kernel_ids = {s.grade_id for s in specs if not s.engine}
    assert kernel_ids == set()
    engine_ids = {s.grade_id for s in specs}
    assert {
        "max_pool2d__random",
        "conv2d__same_padding",
        "conv2d_fast__vectorized",
        "build_cifar_model__training",
    } <= engine_ids


def test_library_errors_are_told_from_wrong_answers_that_mention_layers():
    """The arithmetic message is given for what the locked kernel does to Keras/grader calls, and not
    for a student's own error that happens to say "layers"."""
    from grader_utils.grading.engine import reached_for_a_library
    from grader_utils.sandbox import native_lock
    from grader_utils.sandbox.kernel import MASKED_MESSAGE

    assert reached_for_a_library("NameError: name 'keras' is not defined")
    assert reached_for_a_library("NameError: name 'layers' is not defined")
    assert reached_for_a_library(f"ImportError: tensorflow/_pywrap.so is compiled code: {native_lock.MESSAGE}.")
    assert reached_for_a_library("ImportError: " + MASKED_MESSAGE.format(name="truth"))
    assert not reached_for_a_library("KeyError: 'layers'")
    assert not reached_for_a_library("ValueError: too many layers in the stack")
    assert not reached_for_a_library("NameError: name 'layer' is not defined")
