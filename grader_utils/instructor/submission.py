"""Grade one submission in this process, fail closed: the task that the workers and the Dask runner run.

One *task* is one student's submission of one assignment (:func:`grade_task`). It

1. removes the submission's old records and sets every auto score of its test cells in the gradebook to 0
   (nbgrader keeps the old scores when a regrade fails; manual scores, and the answers graded by hand, are
   not touched: they stay as nbgrader's SaveAutoGrades leaves them, for the formgrader);
2. runs nbgrader's autograde for that student, in-process (nbgrader's own sanitizing, restoring
   of test cells, late penalties and gradebook rows). Its ``SandboxedExecute`` preprocessor
   (:mod:`graded_run`) runs each notebook's kernel in the sandbox (outputs for feedback) and
   the trusted engine, whose verdicts become the test cells' outputs and the records
   ``<notebook>.grading.json``;
3. checks that every notebook has a record and no test ``failed``, and stores the records' scores.

A failure anywhere leaves the submission with 0 auto points and records saying ``failed`` or
``timeout`` and why (:func:`fail_closed`, :func:`record_timeout`). The outcome of a task is an
:class:`Outcome`, plain data that crosses from a worker process as one JSON line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..grading import grading_state
from ..grading.gradebook import late_penalty, store_scores, submission_score, zero_auto_scores
from ..grading.health import EnvironmentProblem, environment_problem
from ..grading.layout import CourseLayout, course_db_url, load_course_config
from ..grading.records import Status, SubmissionStatus, TestResult, read_record, write_record
from ..grading.specs import manual_cells, read_specs

__all__ = [
    "Outcome",
    "ensure_assignment",
    "fail_closed",
    "grade_task",
    "record_timeout",
    "failed_outcome",
    "timed_out_outcome",
    "environment_outcome",
    "SUSPECT_STATUSES",
]


@dataclass
class Outcome:
    """What happened to one submission: ``graded`` (the engine's scores stored), ``failed`` (something
    could not be graded: 0 points, ``reason`` says why) or ``timeout`` (0 points)."""

    student: str
    assignment: str
    status: SubmissionStatus
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    #: nbgrader's late penalty, already taken off ``score`` (``score`` is ``max(0, raw - late_penalty)``)
    late_penalty: float = 0.0

    def __post_init__(self) -> None:
        self.status = SubmissionStatus(self.status)  # read back from a worker's JSON line


def ensure_assignment(root: Path, assignment: str, db_url: str) -> None:
    """Make sure the gradebook knows the assignment (``nbgrader generate_assignment`` records its
    cells); run it when the gradebook is new, e.g. on a fresh clone whose release/ is committed."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            if gb.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    api = _api(root, db_url)
    result = api.generate_assignment(assignment, force=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('error', '')}")


_APIS: dict[tuple[str, str], Any] = {}


def _api(root: Path, db_url: str) -> Any:
    """nbgrader's API for the course, configured for trusted grading (cached per worker)."""
    key = (str(root), db_url)
    if key not in _APIS:
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = load_course_config(root)
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = db_url
        coursedir = CourseDirectory(config=config)
        _APIS[key] = NbGraderAPI(coursedir=coursedir, config=config)
    return _APIS[key]


def _summarise(outcome: Outcome, graded: dict[str, list[Any]]) -> None:
    for notebook, results in graded.items():
        for r in results:
            if not r.status.is_verdict:
                outcome.problems.append(f"{notebook}/{r.grade_id}: {r.status} ({r.reason[:120]})")
            outcome.causes += r.causes


def _record_paths(root: Path, assignment: str, student: str) -> dict[str, Path]:
    layout = CourseLayout(root)
    return {nb.stem: layout.record(student, assignment, nb.stem) for nb in layout.source_notebooks(assignment)}


def fail_closed(root: Path, assignment: str, student: str, db_url: str, status: Status, reason: str) -> str:
    """Leave a submission that could not be graded with 0 auto points and a record per notebook
    saying ``status`` (failed or timeout) and why, for each of its auto-graded test cells (cells graded by
    hand keep their state and their grader's score); returns a note when even that failed."""
    notes = []
    try:
        zero_auto_scores(db_url, assignment, student)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"the gradebook could not be reset ({type(exc).__name__}: {str(exc)[:200]})")
    for name, path in _record_paths(root, assignment, student).items():
        try:
            results = [
                TestResult(s.grade_id, status, 0.0, s.points, reason)
                for s in read_specs(CourseLayout(root).source_notebook(assignment, name))
            ]
            write_record(path, student, assignment, name, results)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"the record of {name} could not be written ({type(exc).__name__})")
    try:  # a completed grading: its 0 stands (fail closed), no earlier grade comes back
        grading_state.finish(db_url, assignment, student, grading_state.FAILED, reason)
        _drop_backup(root, assignment, student)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"the grading state could not be written ({type(exc).__name__})")
    return "; ".join(notes)


def grade_task(root: str | Path, assignment: str, student: str, db_url: str | None = None) -> Outcome:
    """Grade one submission in this process. Fail closed: the old records are removed and the auto
    scores set to 0 first; nbgrader's autograde (whose preprocessor runs the student's notebook in
    the sandbox and the trusted engine, see :mod:`grader_utils.sandbox.kernel`) must leave a complete record for
    every notebook; the gradebook then gets the records' scores. Any failure on the way leaves
    the whole submission at 0 with the reason in its records, unless the environment failed
    (:func:`grader_utils.grading.health.environment_problem` finds the failure without the student): then nothing of
    this run counts, the previous grade, its records and autograded notebooks stay (:func:`keep_previous`)."""

    start = time.monotonic()
    root = Path(root).resolve()
    db_url = course_db_url(root, db_url)
    outcome = Outcome(student, assignment, SubmissionStatus.GRADED)
    records = _record_paths(root, assignment, student)
    try:
        fresh = grading_state.begin(db_url, assignment, student)
        _back_up(root, assignment, student, fresh)
    except Exception as exc:  # noqa: BLE001  (nothing changed yet: the gradebook or the disk is the machine's)
        return environment_outcome(root, assignment, student, db_url, f"{type(exc).__name__}: {exc}"[:400], start)
    try:
        for path in records.values():
            path.unlink(missing_ok=True)  # a verdict of an earlier run is never read as this one's
        zero_auto_scores(db_url, assignment, student)
        t = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):
            result = _api(root, db_url).autograde(assignment, student, force=True, create=True)
        outcome.phases["autograde"] = time.monotonic() - t
        if not result["success"]:
            raise RuntimeError(
                "nbgrader could not autograde it: " + _last_line(result.get("error") or result.get("log"))
            )
        graded = {}
        for name, path in records.items():
            if not path.exists():
                raise RuntimeError(f"the grader left no verdict for {name}.ipynb")
            graded[name] = read_record(path)
        failed = [f"{n}/{r.grade_id}: {r.reason}" for n, rs in graded.items() for r in rs if r.status == Status.FAILED]
        if failed:
            raise RuntimeError(failed[0][:400])
        suspect = [r for rs in graded.values() for r in rs if r.status in SUSPECT_STATUSES]
        if suspect:  # a kernel that died or never started: the student's doing, or the machine's?
            problem = environment_problem(root)
            if problem is not None:
                return environment_outcome(root, assignment, student, db_url, str(problem), start)
        for name, results in graded.items():
            store_scores(db_url, assignment, student, name, results)
        _summarise(outcome, graded)
        raw, outcome.max_score = submission_score(db_url, assignment, student)
        outcome.late_penalty = late_penalty(db_url, assignment, student)
        outcome.score = max(0.0, raw - outcome.late_penalty)  # as nbgrader export and every export count it
        grading_state.finish(db_url, assignment, student, grading_state.GRADED)
        _drop_backup(root, assignment, student)
    except Exception as exc:  # one submission's failure is reported, never fatal for the class, never a score
        try:
            problem = environment_problem(root)
        except Exception as check:  # noqa: BLE001  (the check itself failing is the machine's too)
            problem = EnvironmentProblem(
                f"the environment check failed ({type(check).__name__}: {check})", "see the logs"
            )
        if problem is not None:
            return environment_outcome(root, assignment, student, db_url, str(problem), start)
        outcome.status = SubmissionStatus.FAILED
        outcome.reason = str(exc)[:400] if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"[:400]
        if not isinstance(exc, RuntimeError):
            outcome.problems.append(traceback.format_exc(limit=3))
        note = fail_closed(root, assignment, student, db_url, Status.FAILED, outcome.reason)
        if note:
            outcome.problems.append(note)
        outcome.score, outcome.max_score = 0.0, _max_score(root, assignment)
    outcome.seconds = time.monotonic() - start
    return outcome


#: test statuses after which grade_task asks whether the environment failed (the kernel died or did not start)
SUSPECT_STATUSES = frozenset({Status.CRASH, Status.TIMEOUT})


def _backup_dir(root: Path, assignment: str, student: str) -> Path:
    """Where the autograded notebooks and records of the last completed grading wait while a new one runs."""
    return CourseLayout(root).autograded_dir / student / f".previous-{assignment}"


def _back_up(root: Path, assignment: str, student: str, state: grading_state.SubmissionState) -> None:
    """Copy ``autograded/<student>/<assignment>/`` aside, unless the backup of an earlier run that did not complete
    is the trusted one (:func:`grading_state.begin` kept its snapshot: then the folder may be that run's)."""
    backup = _backup_dir(root, assignment, student)
    if state.kept:
        return
    shutil.rmtree(backup, ignore_errors=True)
    current = CourseLayout(root).autograded(student, assignment)
    if current.is_dir():
        shutil.copytree(current, backup, symlinks=True)


def _drop_backup(root: Path, assignment: str, student: str) -> None:
    shutil.rmtree(_backup_dir(root, assignment, student), ignore_errors=True)


def environment_outcome(
    root: str | Path, assignment: str, student: str, db_url: str, reason: str, start: float | None = None
) -> Outcome:
    """Not graded, for the environment's reasons: the previous grade and its autograded notebooks and records come
    back (nothing of this run counts), the records say why; without a previous grade, 0 and "not graded"."""
    root = Path(root)
    start = time.monotonic() if start is None else start
    outcome = Outcome(student, assignment, SubmissionStatus.ENVIRONMENT, reason=reason)
    try:
        state = grading_state.keep_previous(db_url, assignment, student, reason)
        kept = state.previous is not None
    except Exception as exc:  # noqa: BLE001  (the gradebook unreachable: nothing was changed by this run, or 0)
        kept = False
        outcome.problems.append(f"the gradebook could not be restored ({type(exc).__name__}: {str(exc)[:200]})")
    try:
        _restore_records(root, assignment, student, reason)
    except Exception as exc:  # noqa: BLE001
        outcome.problems.append(f"the records could not be restored ({type(exc).__name__}: {str(exc)[:200]})")
    outcome.problems.append("the previous grade is kept" if kept else "not graded before: no grade")
    try:
        outcome.score, outcome.max_score = submission_score(db_url, assignment, student)
    except Exception:  # noqa: BLE001
        outcome.score = 0.0
    if not outcome.max_score:
        outcome.max_score = _max_score(root, assignment)
    outcome.seconds = time.monotonic() - start
    return outcome


def _restore_records(root: Path, assignment: str, student: str, reason: str) -> None:
    """The autograded folder of the last completed grading back in place (records, notebooks: the feedback's
    source), each record noting why this run did not count; records saying ``environment`` when there was none."""
    layout = CourseLayout(root)
    folder = layout.autograded(student, assignment)
    backup = _backup_dir(root, assignment, student)
    if backup.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(backup, folder, symlinks=True)
    for name, path in _record_paths(root, assignment, student).items():
        if path.exists():
            data = json.loads(path.read_text())
            data["not_graded"] = {"status": Status.ENVIRONMENT.value, "reason": reason, "time": time.time()}
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, path)
        else:
            results = [
                TestResult(s.grade_id, Status.ENVIRONMENT, 0.0, s.points, reason)
                for s in read_specs(layout.source_notebook(assignment, name))
            ]
            write_record(path, student, assignment, name, results)


def _max_score(root: Path, assignment: str) -> float:
    """The assignment's points as the gradebook counts them: its test cells and the cells graded by hand."""
    notebooks = CourseLayout(root).source_notebooks(assignment)
    return float(
        sum(s.points for nb in notebooks for s in read_specs(nb))
        + sum(c.points for nb in notebooks for c in manual_cells(nb))
    )


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def record_timeout(root: Path, assignment: str, student: str, seconds: float, db_url: str) -> str:
    """A submission whose grading was stopped: 0 points, ``timeout`` records (see :func:`fail_closed`)."""
    return fail_closed(
        root,
        assignment,
        student,
        db_url,
        Status.TIMEOUT,
        f"grading this submission took longer than {seconds:.0f} s and was stopped",
    )


def failed_outcome(root: str | Path, assignment: str, student: str, db_url: str, reason: str) -> Outcome:
    """A task that could not finish (its process died, its worker was lost): records saying ``failed``,
    0 auto points (:func:`fail_closed`), and its :class:`Outcome`."""
    note = fail_closed(Path(root), assignment, student, db_url, Status.FAILED, reason)
    return Outcome(
        student,
        assignment,
        SubmissionStatus.FAILED,
        max_score=_max_score(Path(root), assignment),
        reason=reason,
        problems=[note] if note else [],
    )


def timed_out_outcome(root: str | Path, assignment: str, student: str, db_url: str, seconds: float) -> Outcome:
    """A task stopped at its per-submission limit: ``timeout`` records, 0 auto points, and its :class:`Outcome`."""
    note = record_timeout(Path(root), assignment, student, seconds, db_url)
    return Outcome(
        student,
        assignment,
        SubmissionStatus.TIMEOUT,
        seconds=seconds,
        max_score=_max_score(Path(root), assignment),
        reason=f"stopped after {seconds:.0f} s (per-submission limit)",
        problems=[note] if note else [],
    )
