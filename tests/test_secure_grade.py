"""grading/secure_grade.py: the engine's verdicts become the test cells' outputs, and a submission the engine
cannot read is ``invalid`` for every test (0 points, the reason), without running anything."""

from __future__ import annotations

import os

import nbformat
import pytest

from conftest import ROOT
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.records import Status
from grader_utils.grading.records import TestResult as Result
from grader_utils.grading.secure_grade import failed_results, grade_submitted, put_verdicts, results_for_all
from grader_utils.grading.specs import read_specs

ASSIGNMENT = "01_convolution"
SOURCE = CourseLayout(ROOT).source_notebooks(ASSIGNMENT)[0]


def _test_cell(grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("check_x(x)")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 4, "solution": False}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="PASSED by the student's kernel\n")]
    cell.execution_count = 3
    return cell


def test_the_verdicts_become_the_test_cells_outputs():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def x(): pass")
    nb.cells = [answer] + [_test_cell(g) for g in ("full", "partial", "zero", "none")]
    put_verdicts(
        nb,
        [
            Result("full", Status.OK, 4, 4),
            Result("partial", Status.DTYPE, 3, 4, "dtype"),
            Result("zero", Status.WRONG, 0, 4, "2 of 5 wrong", notes=["a note"]),
        ],
    )
    full, partial, zero, none = nb.cells[1:]
    assert [o.text for o in full.outputs] == ["PASSED full (checked by the course's grader)\n"]
    assert partial.outputs[0].text.startswith("PARTIAL partial: 3 of 4 points. dtype")
    assert partial.outputs[1].data["text/plain"] == "3.0"  # nbgrader reads a number result as the score
    assert zero.outputs[0].output_type == "error" and zero.outputs[0].evalue == "wrong: 2 of 5 wrong [a note]"
    assert none.outputs[0].evalue == "failed: the course's grader gave no verdict for this test"
    assert all(c.execution_count is None for c in nb.cells[1:]) and answer.outputs == []


def test_results_for_all_give_every_test_its_points_as_possible_and_none_scored():
    specs = read_specs(SOURCE)
    for results in (results_for_all(SOURCE, Status.INVALID, "why"), failed_results(SOURCE, "why")):
        assert [(r.grade_id, r.max_score) for r in results] == [(s.grade_id, s.points) for s in specs]
        assert all(r.score == 0 and r.reason == "why" for r in results)
    assert {r.status for r in failed_results(SOURCE, "x")} == {Status.FAILED}


@pytest.mark.parametrize("problem", ["missing", "link", "folder", "refused"])
def test_a_submission_the_engine_cannot_read_is_invalid(tmp_path, problem):
    layout = CourseLayout(tmp_path)
    target = layout.submitted("ann", ASSIGNMENT) / SOURCE.name
    target.parent.mkdir(parents=True)
    refused = None
    if problem == "link":
        os.symlink(SOURCE, target)
    elif problem == "folder":
        target.mkdir()
    elif problem == "refused":
        target.write_bytes(SOURCE.read_bytes())
        refused = ["data -> /etc/passwd"]
    results = grade_submitted(layout.root, ASSIGNMENT, "ann", SOURCE, refused)
    assert results and {r.status for r in results} == {Status.INVALID} and all(r.score == 0 for r in results)
    reason = results[0].reason
    assert {
        "missing": "missing from the submission",
        "link": "not a regular file",
        "folder": "not a regular file",
        "refused": "data -> /etc/passwd",
    }[problem] in reason


def test_answers_graded_by_hand_keep_the_students_outputs():
    """A code answer worth points (grade + solution) is the student's: no verdict replaces its outputs."""
    answer = _test_cell("plot_answer")
    answer.metadata["nbgrader"]["solution"] = True
    written = nbformat.v4.new_markdown_cell("Because the kernel is flipped.")
    written.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain", "points": 2}
    test = _test_cell("full")
    nb = nbformat.v4.new_notebook(cells=[answer, written, test])
    put_verdicts(nb, [Result("full", Status.OK, 4, 4)])
    assert [o.text for o in answer.outputs] == ["PASSED by the student's kernel\n"] and answer.execution_count == 3
    assert "outputs" not in written
    assert [o.text for o in test.outputs] == ["PASSED full (checked by the course's grader)\n"]
