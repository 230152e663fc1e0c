"""Grade a whole class: submissions in parallel, each one isolated, every old auto score replaced.

One *task* is one student's submission of one assignment (its steps: :mod:`.submission`).

A preflight check comes first (:mod:`.preflight`): a broken environment grades nobody. During the run, a failure
that the environment shares (:mod:`grader_utils.grading.health`) is ``environment``: not graded, the previous grade
kept (:mod:`grader_utils.grading.grading_state`), and the run stops after a few in a row.

Fail closed: a failure anywhere (nbgrader, a kernel, the engine, a verdict, the gradebook, a
worker that dies, a task past its time) leaves the submission with 0 auto points and records
saying ``failed`` or ``timeout`` and why.

Each task is :func:`~grader_utils.instructor.submission.grade_task` (:mod:`submission`); tasks run in
worker processes that import TensorFlow and nbgrader once and keep Keras' answers between tasks
(``--jobs N`` local workers), or on a Dask cluster, where each task runs in a child process of the
Dask worker so that the same time limit holds (:mod:`workers`). A task that runs past its time
limit has its process killed (kernels die with it) and is recorded as ``timeout``; a worker that
dies is replaced. Gradebook writes are short transactions: SQLite (with a 60-second busy timeout)
or PostgreSQL through ``CourseDirectory.db_url``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..grading.layout import CourseLayout, course_db_url
from ..grading.records import SubmissionStatus
from ..grading.secret import course_secret
from .submission import Outcome, ensure_assignment
from .workers import _run_dask, _run_local, run_preflight, stopped_outcome

__all__ = ["submissions", "grade_assignment", "grade_assignments"]

#: per notebook, on top of the per-cell limit of nbgrader_config.py (Execute.timeout)
NOTEBOOK_SECONDS = 600.0


def submissions(root: Path, assignment: str, students: Iterable[str] | None = None) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    return CourseLayout(Path(root)).students(assignment, list(students or []))


def grade_assignments(
    root: Path,
    assignments: Iterable[str],
    students: Iterable[str] | None = None,
    *,
    jobs: int = 2,
    db_url: str | None = None,
    scheduler: str | None = None,
    task_seconds: float | None = None,
    on_done: Callable[[Outcome], None] = lambda o: None,
    preflight: bool = True,
) -> list[Outcome]:
    """Grade the submissions of each assignment (all students, or ``students``) with one set of
    workers; returns one outcome per submission, by assignment then student. First (``preflight``) the grading
    environment is checked (:mod:`.preflight`): when it is not sound, no submission is graded, no grade changes,
    and every outcome is ``environment`` with the cause and the fix."""
    root = Path(root).resolve()
    db_url = course_db_url(root, db_url)
    # nbgrader runs `alembic` by name when it creates a gradebook: the virtualenv's bin/ must be on PATH
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    outcomes: list[Outcome] = []
    tasks: list[dict] = []
    for assignment in assignments:
        chosen = submissions(root, assignment, students)
        for s in sorted(set(students or []) - set(chosen)):
            outcomes.append(
                Outcome(s, assignment, SubmissionStatus.FAILED, reason=f"no submission in submitted/{s}/{assignment}/")
            )
            on_done(outcomes[-1])
        if not chosen:
            continue
        ensure_assignment(root, assignment, db_url)
        course_secret(root)  # made once here, before workers race to make it
        seconds = task_seconds or NOTEBOOK_SECONDS * max(1, len(CourseLayout(root).source_notebooks(assignment)))
        tasks += [
            {"root": str(root), "assignment": assignment, "student": s, "db_url": db_url, "seconds": seconds}
            for s in chosen
        ]
    problem = run_preflight(root, list(dict.fromkeys(t["assignment"] for t in tasks))) if tasks and preflight else None
    if problem is not None:  # nobody is graded, no grade changes
        for task in tasks:
            outcomes.append(stopped_outcome(task, f"not graded: the preflight check failed: {problem}"))
            on_done(outcomes[-1])
        tasks = []
    if tasks and scheduler:
        outcomes += _run_dask(root, tasks, scheduler, on_done)
    elif tasks:
        log_dir = Path(tempfile.mkdtemp(prefix="grading-logs-"))
        local = _run_local(root, tasks, max(1, jobs), on_done, log_dir)
        if all(o.status == SubmissionStatus.GRADED for o in local):
            shutil.rmtree(log_dir, ignore_errors=True)
        else:  # the workers' logs (nbgrader's and the kernels' messages) help to find out why
            for o in local:
                if o.status != SubmissionStatus.GRADED:
                    o.problems.append(f"worker logs: {log_dir}")
        outcomes += local
    order = {a: i for i, a in enumerate(assignments)}
    return sorted(outcomes, key=lambda o: (order.get(o.assignment, 0), o.student))


def grade_assignment(
    root: Path, assignment: str, students: Iterable[str] | None = None, **kwargs: Any
) -> list[Outcome]:
    """Grade the submissions of one assignment (see :func:`grade_assignments`)."""
    return grade_assignments(root, [assignment], students, **kwargs)
