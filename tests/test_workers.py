"""instructor/workers.py: the time limit of a task in its own process, and the local pool's time limit.

A task past its limit is killed and recorded as ``timeout`` (0 points, the reason in the records), on a real
gradebook (tests/small_gradebook.py) and a course whose notebooks match it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import VENV_BIN, copy_small_gradebook, course_with_demo_student
from grader_utils.grading.gradebook import submission_score
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.records import Status, SubmissionStatus, read_record
from grader_utils.instructor import workers
from small_gradebook import LAYOUT, write_source

ASSIGNMENT, NOTEBOOK, CELLS = LAYOUT[0]


@pytest.fixture
def course(small_gradebook_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseLayout, str]:
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    return CourseLayout(write_source(tmp_path)), db_url


def _assert_timed_out(layout: CourseLayout, db_url: str, outcome, student: str, seconds: float) -> None:
    assert (outcome.student, outcome.status, outcome.score) == (student, SubmissionStatus.TIMEOUT, 0.0)
    assert outcome.seconds == seconds and outcome.max_score == sum(p for _, p in CELLS)
    results = read_record(layout.record(student, ASSIGNMENT, NOTEBOOK))
    assert {r.status for r in results} == {Status.TIMEOUT}
    assert submission_score(db_url, ASSIGNMENT, student)[0] == 0.0


def test_a_bounded_task_past_its_limit_is_killed_and_times_out(course):
    """The child process cannot even import the grader in 0.2 s: it is killed, and the submission (ann had
    full auto points) ends at 0 with ``timeout`` records."""
    layout, db_url = course
    assert submission_score(db_url, ASSIGNMENT, "ann")[0] > 0
    outcome = workers.grade_task_bounded(str(layout.root), ASSIGNMENT, "ann", db_url, 0.2)
    _assert_timed_out(layout, db_url, outcome, "ann", 0.2)


def test_the_module_is_only_an_entry_point_for_workers():
    proc = subprocess.run(
        [sys.executable, "-m", "grader_utils.instructor.workers"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and "usage: python -m grader_utils grade" in proc.stderr


@pytest.mark.keras
@pytest.mark.sandbox
@pytest.mark.nbgrader
def test_the_local_pool_answers_each_task_and_kills_one_past_its_limit(tmp_path, monkeypatch):
    """One real local worker (it imports TensorFlow and nbgrader, then says it is ready) gets two tasks of the
    real 01_convolution: bob has no submission (nbgrader's autograde fails at once: a ``failed`` outcome comes
    back on the worker's answer line); alice's notebook needs the sandbox far longer than its 1 s limit (the
    worker is killed, the task recorded as timed out)."""
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assignment = "01_convolution"
    layout = CourseLayout(course_with_demo_student(tmp_path / "course", assignment))
    tasks = [
        {"root": str(layout.root), "assignment": assignment, "student": s, "db_url": layout.db_url, "seconds": t}
        for s, t in (("bob", 600.0), ("alice", 1.0))
    ]
    done: list = []
    logs = tmp_path / "logs"
    logs.mkdir()
    outcomes = workers._run_local(layout.root, tasks, 1, done.append, logs)
    assert outcomes == done and [o.student for o in outcomes] == ["bob", "alice"]
    notebook = layout.source_notebooks(assignment)[0].stem
    bob, alice = outcomes
    assert (bob.status, bob.score) == (SubmissionStatus.FAILED, 0.0) and "nbgrader could not autograde" in bob.reason
    assert {r.status for r in read_record(layout.record("bob", assignment, notebook))} == {Status.FAILED}
    assert (alice.status, alice.score, alice.seconds) == (SubmissionStatus.TIMEOUT, 0.0, 1.0), alice
    assert {r.status for r in read_record(layout.record("alice", assignment, notebook))} == {Status.TIMEOUT}
    assert submission_score(layout.db_url, assignment, "alice")[0] == 0.0
    assert (logs / "worker-1.log").exists() and not (logs / "worker-2.log").exists()
