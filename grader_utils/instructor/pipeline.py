"""Grade a whole class: submissions in parallel, each one isolated, every old auto score replaced.

One *task* is one student's submission of one assignment. A task

1. removes the submission's old records and sets every auto score of it in the gradebook to 0
   (nbgrader keeps the old scores when a regrade fails; manual scores are not touched);
2. runs nbgrader's autograde for that student, in-process (nbgrader's own sanitizing, restoring
   of test cells, late penalties and gradebook rows). Its ``SandboxedExecute`` preprocessor
   (:mod:`kernel_sandbox`) runs each notebook's kernel in the sandbox (outputs for feedback) and
   the trusted engine, whose verdicts become the test cells' outputs and the records
   ``<notebook>.grading.json``;
3. checks that every notebook has a record and no test ``failed``, and stores the records' scores.

Fail closed: a failure anywhere (nbgrader, a kernel, the engine, a verdict, the gradebook, a
worker that dies, a task past its time) leaves the submission with 0 auto points and records
saying ``failed`` or ``timeout`` and why.

Tasks run in worker processes that import TensorFlow and nbgrader once and keep Keras' answers
between tasks (``--jobs N`` local workers), or on a Dask cluster, where each task runs in a child
process of the Dask worker so that the same time limit holds (:func:`grade_task_bounded`). A task
that runs past its time limit has its process killed (kernels die with it) and is recorded as
``timeout``; a worker that dies is replaced. Gradebook writes are short transactions: SQLite
(with a 60-second busy timeout) or PostgreSQL through ``CourseDirectory.db_url``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..grading.gradebook import store_scores, submission_score, zero_auto_scores
from ..grading.layout import CourseLayout, course_db_url, load_course_config
from ..grading.records import Status, SubmissionStatus, TestResult, read_record, write_record
from ..grading.secret import course_secret
from ..grading.specs import read_specs

__all__ = ["Outcome", "course_db_url", "submissions", "grade_task", "grade_assignment", "grade_assignments"]

#: per notebook, on top of the per-cell limit of nbgrader_config.py (Execute.timeout)
NOTEBOOK_SECONDS = 600.0


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

    def __post_init__(self) -> None:
        self.status = SubmissionStatus(self.status)  # read back from a worker's JSON line


def submissions(root: Path, assignment: str, students: Iterable[str] | None = None) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    return CourseLayout(Path(root)).students(assignment, list(students or []))


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
    return {
        nb.stem: root / "autograded" / student / assignment / f"{nb.stem}.grading.json"
        for nb in sorted((root / "source" / assignment).glob("*.ipynb"))
    }


def fail_closed(root: Path, assignment: str, student: str, db_url: str, status: Status, reason: str) -> str:
    """Leave a submission that could not be graded with 0 auto points and a record per notebook
    saying ``status`` (failed or timeout) and why; returns a note when even that failed."""
    notes = []
    try:
        zero_auto_scores(db_url, assignment, student)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"the gradebook could not be reset ({type(exc).__name__}: {str(exc)[:200]})")
    for name, path in _record_paths(root, assignment, student).items():
        try:
            results = [
                TestResult(s.grade_id, status, 0.0, s.points, reason)
                for s in read_specs(root / "source" / assignment / f"{name}.ipynb")
            ]
            write_record(path, student, assignment, name, results)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"the record of {name} could not be written ({type(exc).__name__})")
    return "; ".join(notes)


def grade_task(root: str | Path, assignment: str, student: str, db_url: str | None = None) -> Outcome:
    """Grade one submission in this process. Fail closed: the old records are removed and the auto
    scores set to 0 first; nbgrader's autograde (whose preprocessor runs the student's notebook in
    the sandbox and the trusted engine, see :mod:`kernel_sandbox`) must leave a complete record for
    every notebook; the gradebook then gets the records' scores. Any failure on the way leaves
    the whole submission at 0 with the reason in its records."""

    start = time.monotonic()
    root = Path(root).resolve()
    db_url = course_db_url(root, db_url)
    outcome = Outcome(student, assignment, SubmissionStatus.GRADED)
    records = _record_paths(root, assignment, student)
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
        for name, results in graded.items():
            store_scores(db_url, assignment, student, name, results)
        _summarise(outcome, graded)
        outcome.score, outcome.max_score = submission_score(db_url, assignment, student)
    except Exception as exc:  # one submission's failure is reported, never fatal for the class, never a score
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


def _max_score(root: Path, assignment: str) -> float:
    return float(sum(s.points for nb in sorted((root / "source" / assignment).glob("*.ipynb")) for s in read_specs(nb)))


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


def grade_task_bounded(root: str, assignment: str, student: str, db_url: str, seconds: float) -> Outcome:
    """:func:`grade_task` in a child process of its own, killed (with everything it started) after
    ``seconds``: how a Dask worker grades, so that the per-submission limit holds there too."""
    task = {"root": root, "assignment": assignment, "student": student, "db_url": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader_utils.instructor.pipeline", "--one"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(json.dumps(task), timeout=seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
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
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # nothing the task started outlives it
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        reason = f"the grading process died (exit code {proc.returncode})"
        note = fail_closed(Path(root), assignment, student, db_url, Status.FAILED, reason)
        return Outcome(
            student,
            assignment,
            SubmissionStatus.FAILED,
            max_score=_max_score(Path(root), assignment),
            reason=reason,
            problems=[note] if note else [],
        )
    return Outcome(**json.loads(lines[-1]))


# --------------------------------------------------------------------------- local workers


def _worker_main() -> int:
    """A worker: reads one JSON task per line on stdin, answers one JSON outcome per line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the log, not into the answers
    from ..quiet import quiet_tensorflow

    quiet_tensorflow()  # once per worker: the engine's ground truth needs Keras
    import nbgrader.apps  # noqa: F401

    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        outcome = grade_task(task["root"], task["assignment"], task["student"], task["db_url"])
        out.write(json.dumps(asdict(outcome)) + "\n")
    return 0


class _Worker:
    def __init__(self, log: Path) -> None:
        import tempfile

        self.log = open(log, "ab")  # noqa: SIM115  (the worker's log, open for the worker's life)
        # the worker's temporary files (kernel and engine scratch folders) live in a folder of its own,
        # removed with the worker: a killed task leaves nothing behind
        self.tmp = Path(tempfile.mkdtemp(prefix="gw-"))
        os.chmod(self.tmp, 0o755)
        env = dict(os.environ, TMPDIR=str(self.tmp))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader_utils.instructor.pipeline", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
            start_new_session=True,
            env=env,
        )
        self.task: dict | None = None
        self.deadline = float("inf")
        self.ready = False

    def send(self, task: dict, seconds: float) -> None:
        self.task = task
        self.deadline = time.monotonic() + seconds
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(task) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _notebook_count(root: Path, assignment: str) -> int:
    return max(1, len(list((Path(root) / "source" / assignment).glob("*.ipynb"))))


def _run_local(
    root: Path, tasks: list[dict], jobs: int, on_done: Callable[[Outcome], None], log_dir: Path
) -> list[Outcome]:
    """Run ``tasks`` (dicts with root, assignment, student, db_url, seconds) on ``jobs`` workers."""
    pending = list(reversed(tasks))
    outcomes: list[Outcome] = []
    sel = selectors.DefaultSelector()
    workers: list[_Worker] = []
    counter = [0]

    def spawn() -> _Worker:
        counter[0] += 1
        w = _Worker(log_dir / f"worker-{counter[0]}.log")
        workers.append(w)
        assert w.proc.stdout is not None
        sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        return w

    def retire(w: _Worker) -> None:
        assert w.proc.stdout is not None
        sel.unregister(w.proc.stdout)
        workers.remove(w)
        w.kill()

    def finish(w: _Worker, outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_done(outcome)
        w.task, w.deadline = None, float("inf")

    for _ in range(min(jobs, len(pending))):
        spawn()
    try:
        while pending or any(w.task for w in workers):
            for w in list(workers):
                if w.ready and w.task is None and pending:
                    task = pending.pop()
                    w.send(task, task["seconds"])
            now = time.monotonic()
            timeout = max(0.05, min([w.deadline for w in workers] + [now + 1.0]) - now)
            for key, _ in sel.select(timeout):
                w = key.data
                line = w.proc.stdout.readline()
                if not line:  # the worker died: its submission failed, a new worker takes over
                    task = w.task
                    retire(w)
                    if task is not None:
                        reason = f"the grading process died (exit code {w.proc.returncode})"
                        note = fail_closed(
                            root, task["assignment"], task["student"], task["db_url"], Status.FAILED, reason
                        )
                        finish(
                            w,
                            Outcome(
                                task["student"],
                                task["assignment"],
                                SubmissionStatus.FAILED,
                                reason=reason,
                                max_score=_max_score(root, task["assignment"]),
                                problems=[note] if note else [],
                            ),
                        )
                    if pending or any(x.task for x in workers):
                        spawn()
                    continue
                message = json.loads(line)
                if message.get("ready"):
                    w.ready = True
                    continue
                finish(w, Outcome(**message))
            for w in list(workers):
                if w.task is not None and time.monotonic() > w.deadline:
                    task = w.task
                    retire(w)
                    note = record_timeout(root, task["assignment"], task["student"], task["seconds"], task["db_url"])
                    finish(
                        w,
                        Outcome(
                            task["student"],
                            task["assignment"],
                            SubmissionStatus.TIMEOUT,
                            seconds=task["seconds"],
                            max_score=_max_score(root, task["assignment"]),
                            reason=f"stopped after {task['seconds']:.0f} s (per-submission limit)",
                            problems=[note] if note else [],
                        ),
                    )
                    if pending:
                        spawn()
    finally:
        for w in list(workers):
            retire(w)
    return outcomes


def _run_dask(root: Path, tasks: list[dict], scheduler: str, on_done: Callable[[Outcome], None]) -> list[Outcome]:
    from distributed import Client, as_completed

    outcomes = []
    with Client(scheduler) as client:
        futures = {
            client.submit(
                grade_task_bounded,
                t["root"],
                t["assignment"],
                t["student"],
                t["db_url"],
                t["seconds"],
                pure=False,
                key=f"grade-{t['assignment']}-{t['student']}",
            ): t
            for t in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker lost mid-task: fail closed here
                reason = f"{type(exc).__name__}: {exc}"[:400]
                note = fail_closed(root, task["assignment"], task["student"], task["db_url"], Status.FAILED, reason)
                outcome = Outcome(
                    task["student"],
                    task["assignment"],
                    SubmissionStatus.FAILED,
                    reason=reason,
                    max_score=_max_score(root, task["assignment"]),
                    problems=[note] if note else [],
                )
            outcomes.append(outcome)
            on_done(outcome)
    return outcomes


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
) -> list[Outcome]:
    """Grade the submissions of each assignment (all students, or ``students``) with one set of
    workers; returns one outcome per submission, by assignment then student."""
    import tempfile

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
        seconds = task_seconds or NOTEBOOK_SECONDS * _notebook_count(root, assignment)
        tasks += [
            {"root": str(root), "assignment": assignment, "student": s, "db_url": db_url, "seconds": seconds}
            for s in chosen
        ]
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


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(_worker_main())
    if sys.argv[1:] == ["--one"]:  # one task from stdin, its outcome as one JSON line (grade_task_bounded)
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        task = json.loads(sys.stdin.read())
        out.write(
            json.dumps(asdict(grade_task(task["root"], task["assignment"], task["student"], task["db_url"]))) + "\n"
        )
        out.flush()
        sys.exit(0)
    sys.exit("usage: python -m grader_utils grade ... (this module's entry point is for worker processes)")
