"""Fail closed: a failure at any stage of grading leaves the submission with 0 points and a reason.

A correct submission (the demo student alice: full marks on 01_convolution when nothing fails) is
graded with one stage of the trusted grading broken at a time, in this process
(:func:`submission.grade_task`) or, for the time limit of Dask workers, in a child process
(:func:`workers.grade_task_bounded`). Every time the gradebook, the records, the CSV export and
the class report must say 0 and why; before this test's issue, an engine failure left the
kernel's full points in place.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import ROOT, course_with_demo_student, load_json

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

A = "01_convolution"


def _max_points() -> float:
    """The points of every test cell of the instructor's notebook of A."""
    from grader_utils.grading.specs import read_specs

    return sum(spec.points for nb in (ROOT / "source" / A).glob("*.ipynb") for spec in read_specs(nb))


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return course_with_demo_student(tmp_path_factory.mktemp("failclosed"), A)


def _gradebook_score(course: Path) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return float(gb.find_submission(A, "alice").score)


def _assert_zero_with_reason(course: Path, outcome, status: str, words: str) -> None:
    from grader_utils.instructor.exporters import export
    from grader_utils.instructor.report import class_stats

    assert outcome.status == status, outcome
    assert words in outcome.reason, outcome.reason
    assert _gradebook_score(course) == 0.0
    record = load_json(course / "autograded" / "alice" / A / "convolution.grading.json")
    assert {t["status"] for t in record["tests"]} == {status}
    assert all(t["score"] == 0 and words in t["reason"] for t in record["tests"])
    path = export(f"sqlite:///{course / 'gradebook.db'}", "csv", course / "grades.csv", [A])
    rows = [r for r in csv.DictReader(path.open()) if r["student_id"] == "alice"]
    assert rows and float(rows[0]["total"]) == 0 and float(rows[0]["max"]) == _max_points(), rows
    stats = class_stats(course, A, db_url=f"sqlite:///{course / 'gradebook.db'}")
    assert any(p["student"] == "alice" and p["status"] == status for p in stats.problems), stats.problems


def _grade(course: Path):
    from grader_utils.instructor.submission import grade_task

    return grade_task(course, A, "alice")


def test_a_correct_submission_gets_full_marks_when_nothing_fails(course):
    outcome = _grade(course)
    full = _max_points()
    assert full > 0
    assert outcome.status == "graded" and outcome.score == full, outcome
    assert _gradebook_score(course) == full


def _raise(*args, **kwargs):
    raise ValueError("injected failure")


@pytest.mark.parametrize("stage", ["protocol", "verdict", "engine", "gradebook write", "autograde"])
def test_a_failure_at_any_stage_leaves_zero_and_the_reason(course, monkeypatch, stage):
    from grader_utils.grading import graded_run
    from grader_utils.instructor import submission
    from grader_utils.sandbox import protocol

    if stage == "protocol":  # results that cannot be decoded (any exception, not only ProtocolError)
        monkeypatch.setattr(protocol, "loads", _raise)
        words = "malformed result"
    elif stage == "verdict":  # a verdict that raises on an odd but legal answer
        import dataclasses

        from grader_utils.judge import registry

        broken = dataclasses.replace(registry.ARRAY_EXERCISES["check_correlate2d"], verdict=_raise)
        monkeypatch.setitem(registry.ARRAY_EXERCISES, "check_correlate2d", broken)
        words = "the grader failed"
    elif stage == "engine":
        monkeypatch.setattr(graded_run, "_plan", _raise)
        words = "the grader could not plan"
    elif stage == "gradebook write":
        monkeypatch.setattr(submission, "store_scores", _raise)  # where the task writes the engine's scores
        words = "injected failure"
    else:
        monkeypatch.setattr(submission, "read_record", _raise)
        words = "injected failure"
    outcome = _grade(course)
    if stage == "protocol":  # a malformed result is the sandbox's fault: 0 for those tests, graded
        assert outcome.status == "graded" and outcome.score == 0.0, outcome
        record = load_json(course / "autograded" / "alice" / A / "convolution.grading.json")
        assert {t["status"] for t in record["tests"]} == {"invalid"} and _gradebook_score(course) == 0.0
        return
    _assert_zero_with_reason(course, outcome, "failed", words)


def test_the_time_limit_holds_in_a_bounded_task(course):
    """What Dask workers run: the task in a child process, killed at the limit, 0 points."""
    from grader_utils.grading.layout import course_db_url
    from grader_utils.instructor.workers import grade_task_bounded

    outcome = grade_task_bounded(str(course), A, "alice", course_db_url(course), seconds=3)
    _assert_zero_with_reason(course, outcome, "timeout", "3 s")
