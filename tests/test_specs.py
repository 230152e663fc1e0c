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
        "max_pool2d__strides",
        "conv2d__same",
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


# --- cells graded by hand are not tests (issue #22, item 4) ----------------------------------------------


def _hand_notebook(tmp_path):
    from small_gradebook import HAND, write_hand_source

    assignment, notebook = HAND
    return write_hand_source(tmp_path) / "source" / assignment / f"{notebook}.ipynb"


def test_only_code_grade_cells_that_are_not_solutions_are_tests(tmp_path):
    """As nbgrader's determine_grade decides: a written answer, a code answer worth points and a task are graded
    by hand; read_specs returns the test cells alone, manual_cells the others."""
    import nbformat

    from grader_utils.grading.specs import is_manual_cell, is_test_cell, manual_cells
    from small_gradebook import HAND_CELLS

    path = _hand_notebook(tmp_path)
    assert [s.grade_id for s in read_specs(path)] == [g for g, _p, kind in HAND_CELLS if kind == "test"]
    assert [(c.grade_id, c.points, c.kind) for c in manual_cells(path)] == [
        (g, float(p), kind) for g, p, kind in HAND_CELLS if kind != "test"
    ]
    kinds = {c.metadata["nbgrader"]["grade_id"]: c for c in nbformat.read(path, as_version=4).cells}
    assert is_test_cell(kinds["mean__basic"]) and not is_manual_cell(kinds["mean__basic"])
    for name in ("explain_mean", "plot_mean", "design_task"):
        assert is_manual_cell(kinds[name]) and not is_test_cell(kinds[name]), name
    assert not is_test_cell(kinds["mean"]) and not is_manual_cell(kinds["mean"])  # a plain solution cell


def test_a_code_answer_graded_by_hand_is_student_code_and_is_not_restored(tmp_path):
    """The student's code answer runs with the student's other cells and keeps the student's text; the test cell
    is still restored from the instructor's notebook."""
    import nbformat

    from grader_utils.grading.specs import restore_test_cells, student_cells

    path = _hand_notebook(tmp_path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        name = cell.metadata["nbgrader"]["grade_id"]
        if name == "plot_mean":
            cell.source = "print('my own answer')"
        if name == "mean__basic":
            cell.source = "pass  # forged"
    nb = restore_test_cells(nb, path)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells}
    assert by_id["plot_mean"].source == "print('my own answer')"
    assert by_id["mean__basic"].source == "assert mean([1, 2, 3]) == 2"
    cells, notes = student_cells(nb, read_specs(path))
    assert "print('my own answer')" in cells and not any("assert mean" in c for c in cells) and notes == []
