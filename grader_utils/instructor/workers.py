"""Where tasks run: a pool of local worker processes, or a Dask cluster.

Local workers (``--jobs N``, :func:`_run_local`) import TensorFlow and nbgrader once and keep Keras'
answers between tasks; each reads one JSON task per line on stdin and answers one JSON
:class:`~grader_utils.instructor.submission.Outcome` per line. On a Dask cluster
(:func:`_run_dask`) each task runs in a child process of the Dask worker
(:func:`grade_task_bounded`), so that the same time limit holds. A task that runs past its time
limit has its process killed (kernels die with it) and is recorded as ``timeout``; a worker that
dies is replaced and its task recorded as ``failed`` (fail closed: 0 points, the reason in the records).
Each worker runs under its own memory and CPU limits (:mod:`.budget`, sized by ``--jobs``): a submission
that makes it exceed them fails, and the run goes on.

A task is a dict: ``root``, ``assignment``, ``student``, ``db_url``, ``seconds`` (its time limit).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ..grading.records import SubmissionStatus
from . import budget
from .submission import Outcome, environment_outcome, failed_outcome, grade_task, timed_out_outcome

__all__ = ["grade_task_bounded", "ENVIRONMENT_STREAK", "check_environment", "run_preflight", "stopped_outcome"]

#: the run stops after this many submissions in a row were not graded for the environment's reasons
ENVIRONMENT_STREAK = 3


def run_preflight(root: str | Path, assignments: list[str], seconds: float = 1800.0) -> str | None:
    """:func:`grader_utils.instructor.preflight.preflight` in a grading process of its own, with a worker's
    temporary folder; returns the problem with its fix, or None when the class can be graded."""
    return _checked(["--preflight", str(root), *assignments], seconds)


def check_environment(root: str | Path, seconds: float = 600.0) -> str | None:
    """The grading environment checked as a worker sees it, in a process of its own (TensorFlow and nbgrader
    imported, the disk, a moved course, a sandboxed kernel: :func:`grader_utils.grading.health.environment_problem`);
    returns the problem with its fix, or None when the environment is sound."""
    return _checked(["--check", str(root)], seconds)


def _checked(args: list[str], seconds: float) -> str | None:
    import tempfile

    try:
        tmp = Path(tempfile.mkdtemp(prefix="gw-"))
        os.chmod(tmp, 0o755)
    except OSError as exc:
        return f"the temporary folder cannot be used ({exc}). Fix: free space in it or set TMPDIR, then grade again"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "grader_utils.instructor.workers", *args],
            env=dict(os.environ, TMPDIR=str(tmp)),
            capture_output=True,
            text=True,
            timeout=seconds,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return f"the environment check did not finish in {seconds:.0f} s. Fix: see whether the machine is overloaded"
    except OSError as exc:
        return f"a grading process cannot be started ({exc}). Fix: check the course's virtualenv (`make install`)"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1]).get("problem")
    return _start_failure(proc.returncode, proc.stderr)


def _start_failure(code: int | None, stderr: str) -> str:
    """A grading process that could not start: its last error line (e.g. TensorFlow that cannot be imported)."""
    errors = [line for line in stderr.splitlines() if line.strip() and not line.startswith(" ")]
    last = errors[-1][:300] if errors else f"exit code {code}"
    return (
        f"a grading process cannot start ({last}). Fix: reinstall the course's packages (`make install` in the "
        f"course directory), then grade again"
    )


def _tail(log: Path, size: int = 4096) -> str:
    """The end of a worker's log (its last error lines)."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, log.stat().st_size - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def stopped_outcome(task: dict, reason: str) -> Outcome:
    """A task the run did not start because the environment failed: nothing of it changed (not graded)."""
    return Outcome(task["student"], task["assignment"], SubmissionStatus.ENVIRONMENT, reason=reason)


def grade_task_bounded(root: str, assignment: str, student: str, db_url: str, seconds: float) -> Outcome:
    """:func:`grade_task` in a child process of its own, killed (with everything it started) after
    ``seconds``: how a Dask worker grades, so that the per-submission limit holds there too."""
    task = {"root": root, "assignment": assignment, "student": student, "db_url": db_url, "seconds": seconds}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader_utils.instructor.workers", "--one"],
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
        return timed_out_outcome(root, assignment, student, db_url, seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # nothing the task started outlives it
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return failed_outcome(root, assignment, student, db_url, budget.exit_reason(proc.returncode))
    return Outcome(**json.loads(lines[-1]))


# --------------------------------------------------------------------------- local workers


def _worker_main() -> int:
    """A worker: reads one JSON task per line on stdin, answers one JSON outcome per line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the log, not into the answers
    share = budget.plan(int(os.environ.get(budget.JOBS_ENV) or 1))
    budget.apply_worker(share)  # the worker's own memory limit, its sandboxes' size (instructor/budget.py)
    from ..quiet import quiet_tensorflow

    quiet_tensorflow()  # once per worker: the engine's ground truth needs Keras
    import nbgrader.apps  # noqa: F401

    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        budget.start_task(share, float(task.get("seconds") or 600))
        outcome = grade_task(task["root"], task["assignment"], task["student"], task["db_url"])
        out.write(json.dumps(asdict(outcome)) + "\n")
    return 0


class _Worker:
    def __init__(self, log: Path, jobs: int = 1) -> None:
        import tempfile

        self.log_path = log
        self.log = open(log, "ab")  # noqa: SIM115  (the worker's log, open for the worker's life)
        # the worker's temporary files (kernel and engine scratch folders) live in a folder of its own,
        # removed with the worker: a killed task leaves nothing behind
        self.tmp = Path(tempfile.mkdtemp(prefix="gw-"))
        os.chmod(self.tmp, 0o755)
        env = dict(os.environ, TMPDIR=str(self.tmp), **{budget.JOBS_ENV: str(jobs)})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader_utils.instructor.workers", "--worker"],
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


def _run_local(
    root: Path, tasks: list[dict], jobs: int, on_done: Callable[[Outcome], None], log_dir: Path
) -> list[Outcome]:
    """Run ``tasks`` (dicts with root, assignment, student, db_url, seconds) on ``jobs`` workers."""
    pending = list(reversed(tasks))
    outcomes: list[Outcome] = []
    sel = selectors.DefaultSelector()
    workers: list[_Worker] = []
    counter = [0]
    streak = [0]  # environment failures in a row
    idle_deaths = [0]  # workers that died before taking a task

    def spawn() -> _Worker:
        counter[0] += 1
        w = _Worker(log_dir / f"worker-{counter[0]}.log", jobs)
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
        streak[0] = streak[0] + 1 if outcome.status == SubmissionStatus.ENVIRONMENT else 0
        if streak[0] >= ENVIRONMENT_STREAK and pending:
            stop(
                f"not started: the run stopped after {streak[0]} submissions in a row were not graded for the "
                f"environment's reasons ({outcome.reason[:300]})"
            )

    def stop(reason: str) -> None:
        """No further task starts; each is reported not graded, and nothing of it changes."""
        while pending:
            outcome = stopped_outcome(pending.pop(), reason)
            outcomes.append(outcome)
            on_done(outcome)

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
                if not line:  # the worker died: the environment's doing, or its submission's?
                    task = w.task
                    retire(w)
                    problem = check_environment(root)
                    if task is not None:
                        reason = budget.exit_reason(w.proc.returncode)
                        if problem is not None:
                            finish(
                                w,
                                environment_outcome(root, task["assignment"], task["student"], task["db_url"], problem),
                            )
                        elif not task.get("retried") and w.proc.returncode != -signal.SIGXCPU:
                            # killed from outside? one more try on a new worker (its own CPU limit: the submission's)
                            pending.append({**task, "retried": True})
                        else:  # it killed its worker twice on a sound machine: the submission's doing, 0
                            finish(w, failed_outcome(root, task["assignment"], task["student"], task["db_url"], reason))
                    else:  # a worker that cannot even start: no task of this run can be graded
                        idle_deaths[0] += 1
                        if problem is None and idle_deaths[0] >= ENVIRONMENT_STREAK:
                            problem = _start_failure(w.proc.returncode, _tail(w.log_path))
                        if problem is not None:
                            stop(f"not graded: {problem}")
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
                    finish(
                        w, timed_out_outcome(root, task["assignment"], task["student"], task["db_url"], task["seconds"])
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
            except Exception as exc:  # a Dask worker lost mid-task (the task's own process is a child of it): not
                # the submission's doing, so nothing of this run counts and its previous grade stays
                reason = f"the Dask worker was lost ({type(exc).__name__}: {exc})"[:400]
                outcome = environment_outcome(root, task["assignment"], task["student"], task["db_url"], reason)
            outcomes.append(outcome)
            on_done(outcome)
    return outcomes


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(_worker_main())
    if sys.argv[1:2] == ["--check"] and len(sys.argv) == 3:  # check_environment: as a worker sees it
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        from ..quiet import quiet_tensorflow

        quiet_tensorflow()
        import nbgrader.apps  # noqa: F401

        from ..grading.health import environment_problem

        found = environment_problem(Path(sys.argv[2]))
        out.write(json.dumps({"problem": str(found) if found else None}) + "\n")
        out.flush()
        sys.exit(0)
    if sys.argv[1:2] == ["--preflight"] and len(sys.argv) >= 4:  # run_preflight: ROOT ASSIGNMENT...
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        from ..quiet import quiet_tensorflow

        quiet_tensorflow()
        import nbgrader.apps  # noqa: F401

        from .preflight import preflight

        found = preflight(Path(sys.argv[2]), sys.argv[3:])
        out.write(json.dumps({"problem": str(found) if found else None}) + "\n")
        out.flush()
        sys.exit(0)
    if sys.argv[1:] == ["--one"]:  # one task from stdin, its outcome as one JSON line (grade_task_bounded)
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        task = json.loads(sys.stdin.read())
        share = budget.plan(int(os.environ.get(budget.JOBS_ENV) or 1))
        budget.apply_worker(share)
        budget.start_task(share, float(task.get("seconds") or 600))
        out.write(
            json.dumps(asdict(grade_task(task["root"], task["assignment"], task["student"], task["db_url"]))) + "\n"
        )
        out.flush()
        sys.exit(0)
    sys.exit("usage: python -m grader_utils grade ... (this module's entry point is for worker processes)")
