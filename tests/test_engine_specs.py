"""The engine reads which checks each instructor test cell runs (no sandbox needed)."""

from __future__ import annotations

import pytest

from conftest import ROOT, assignments
from grader_utils.engine import CHECKS, read_specs


@pytest.mark.parametrize("assignment", assignments())
def test_every_test_cell_is_understood(assignment):
    for nb in (ROOT / "source" / assignment).glob("*.ipynb"):
        specs = read_specs(nb)
        assert specs, nb
        for spec in specs:
            assert spec.calls, f"{spec.grade_id} calls no check_* function"
            for call in spec.calls:
                if call.check in CHECKS:
                    assert call.func and call.suite, spec.grade_id


def test_every_test_cell_is_graded_by_the_engine():
    """No verdict is left to the student's kernel: plain-data checks, the counted calls of
    conv2d_fast and the Keras models of 03 are all judged in the grading process."""
    specs = [s for a in assignments() for nb in (ROOT / "source" / a).glob("*.ipynb") for s in read_specs(nb)]
    kernel_ids = {s.grade_id for s in specs if not s.engine}
    assert kernel_ids == set()
    engine_ids = {s.grade_id for s in specs}
    assert {"max_pool2d__random", "conv2d__same_padding", "conv2d_fast__vectorized",
            "build_cifar_model__training"} <= engine_ids
