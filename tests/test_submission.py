"""instructor/submission.py: a submission that cannot be graded ends at 0 with a reason, on a real gradebook."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, VENV_BIN, copy_small_gradebook
from grader_utils.grading.gradebook import submission_score
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.records import Status, SubmissionStatus, read_record
from grader_utils.grading.specs import read_specs
from grader_utils.instructor import submission
from small_gradebook import AUTO, LAYOUT, MANUAL, write_source

ASSIGNMENT, NOTEBOOK, CELLS = LAYOUT[0]
MAX = float(sum(points for _, points in CELLS))


@pytest.fixture
def course(small_gradebook_file: Path, tmp_path: Path) -> tuple[CourseLayout, str]:
    """A course whose gradebook is a copy of the small gradebook, with matching source notebooks."""
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    return CourseLayout(write_source(tmp_path)), db_url


def _record(layout: CourseLayout, student: str):
    return read_record(layout.record(student, ASSIGNMENT, NOTEBOOK))


def test_fail_closed_zeroes_the_auto_scores_and_records_why(course):
    layout, db_url = course
    assert submission_score(db_url, ASSIGNMENT, "ann")[0] == sum(AUTO[("ann", c)] for c, _ in CELLS) > 0
    note = submission.fail_closed(layout.root, ASSIGNMENT, "ann", db_url, Status.FAILED, "the engine broke")
    assert note == ""
    assert submission_score(db_url, ASSIGNMENT, "ann") == (0.0, MAX)
    results = _record(layout, "ann")
    assert [(r.grade_id, r.max_score) for r in results] == [(c, float(p)) for c, p in CELLS]
    assert all(r.status == Status.FAILED and r.score == 0 and r.reason == "the engine broke" for r in results)


def test_fail_closed_keeps_a_graders_manual_score(course):
    layout, db_url = course
    submission.fail_closed(layout.root, ASSIGNMENT, "bob", db_url, Status.TIMEOUT, "too slow")
    assert submission_score(db_url, ASSIGNMENT, "bob")[0] == sum(MANUAL.values())
    with Gradebook(db_url) as gb:
        grades = {g.name: g.auto_score for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "bob").grades}
    assert grades == {c: 0.0 for c, _ in CELLS}
    assert {r.status for r in _record(layout, "bob")} == {Status.TIMEOUT}


def test_fail_closed_writes_the_records_even_when_the_gradebook_is_unreachable(course, tmp_path):
    layout, _ = course
    broken = f"sqlite:///{tmp_path / 'no such folder' / 'gradebook.db'}"
    note = submission.fail_closed(layout.root, ASSIGNMENT, "ann", broken, Status.FAILED, "why")
    assert "the gradebook could not be reset" in note
    assert {r.status for r in _record(layout, "ann")} == {Status.FAILED}


def test_fail_closed_says_which_record_it_could_not_write(course):
    layout, db_url = course
    layout.record("ann", ASSIGNMENT, NOTEBOOK).mkdir(parents=True)  # a folder where the record goes
    note = submission.fail_closed(layout.root, ASSIGNMENT, "ann", db_url, Status.FAILED, "why")
    assert f"the record of {NOTEBOOK} could not be written" in note
    assert submission_score(db_url, ASSIGNMENT, "ann")[0] == 0.0


def test_failed_outcome_is_zero_with_the_reason_and_the_assignments_points(course):
    layout, db_url = course
    outcome = submission.failed_outcome(str(layout.root), ASSIGNMENT, "ann", db_url, "the worker died")
    assert (outcome.status, outcome.score, outcome.max_score) == (SubmissionStatus.FAILED, 0.0, MAX)
    assert outcome.reason == "the worker died" and outcome.problems == []
    assert sum(s.points for nb in layout.source_notebooks(ASSIGNMENT) for s in read_specs(nb)) == MAX
    assert submission_score(db_url, ASSIGNMENT, "ann")[0] == 0.0
    assert {r.reason for r in _record(layout, "ann")} == {"the worker died"}


def test_timed_out_outcome_records_the_limit(course):
    layout, db_url = course
    outcome = submission.timed_out_outcome(layout.root, ASSIGNMENT, "cy", db_url, 42.0)
    assert (outcome.status, outcome.seconds, outcome.max_score) == (SubmissionStatus.TIMEOUT, 42.0, MAX)
    assert "42 s" in outcome.reason
    results = _record(layout, "cy")
    assert {r.status for r in results} == {Status.TIMEOUT} and all("42 s" in r.reason for r in results)
    assert submission_score(db_url, ASSIGNMENT, "cy")[0] == 0.0


def test_an_outcome_crosses_a_process_as_one_json_line():
    outcome = submission.Outcome("ann", ASSIGNMENT, SubmissionStatus.TIMEOUT, 1.0, 6.0, problems=["p"])
    back = submission.Outcome(**json.loads(json.dumps(asdict(outcome))))
    assert back == outcome and isinstance(back.status, SubmissionStatus)
    with pytest.raises(ValueError):
        submission.Outcome("ann", ASSIGNMENT, "graded-ish")  # type: ignore[arg-type]


@pytest.mark.nbgrader
def test_ensure_assignment_gives_a_new_gradebook_the_assignments_cells(tmp_path, monkeypatch):
    """A fresh gradebook learns the assignment's cells from ``nbgrader generate_assignment`` (real nbgrader, in
    this process); a gradebook that knows them is left alone."""
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs alembic
    assignment = "01_convolution"
    (tmp_path / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    source = CourseLayout(ROOT).source_notebooks(assignment)
    for nb in source:
        target = CourseLayout(tmp_path).source(assignment) / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(nb.read_bytes())
    layout = CourseLayout(tmp_path)
    submission.ensure_assignment(layout.root, assignment, layout.db_url)
    expected = {(nb.stem, s.grade_id, s.points) for nb in source for s in read_specs(nb)}
    with Gradebook(layout.db_url) as gb:
        found = {
            (nb.name, c.name, c.max_score) for nb in gb.find_assignment(assignment).notebooks for c in nb.grade_cells
        }
    assert found == expected
    stamp = layout.gradebook_file.stat().st_mtime_ns
    submission.ensure_assignment(layout.root, assignment, layout.db_url)
    assert layout.gradebook_file.stat().st_mtime_ns == stamp, "a gradebook that knows the assignment is not touched"


def test_fail_closed_leaves_the_answers_graded_by_hand_as_they_were(hand_gradebook_file, tmp_path):
    """A failed submission: its test cells 0 and recorded as failed; its written answer, code answer and task keep
    nbgrader's state and their grader's scores (no record lists them); the outcome's points possible count them."""
    from small_gradebook import HAND, HAND_CELLS, HAND_STATE, hand_state, write_hand_source

    assignment, notebook = HAND
    db_url = copy_small_gradebook(hand_gradebook_file, tmp_path)
    layout = CourseLayout(write_hand_source(tmp_path))
    for student in ("ann", "bob", "cy"):
        outcome = submission.failed_outcome(str(layout.root), assignment, student, db_url, "the worker died")
        assert outcome.max_score == sum(p for _n, p, _k in HAND_CELLS)
        state = hand_state(db_url, student)
        assert {n: s for n, s in state.items() if n != "mean__basic"} == {
            n: HAND_STATE[student, n] for n, _p, kind in HAND_CELLS if kind != "test"
        }
        assert state["mean__basic"][0] == 0.0
        results = read_record(layout.record(student, assignment, notebook))
        assert [(r.grade_id, r.status) for r in results] == [("mean__basic", Status.FAILED)]
    manual_given = sum(m for (s, _n), (_a, m, _x) in HAND_STATE.items() if s == "ann" and m is not None)
    assert submission_score(db_url, assignment, "ann") == (manual_given, sum(p for _n, p, _k in HAND_CELLS))
