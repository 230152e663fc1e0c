"""The ordinary test cells of one graded notebook: what ``grading/graded_run.py`` calls at each of them.

:class:`NotebookCells` reads the *instructor's* notebook (``source/``, never the submission): its ordinary test
cells, its read-only cells (code cells that are neither a solution nor a test nor a lesson demo: they run in the
grading process, in order, before the test cell that follows them) and the names the solution cells bind (the
student's names). At a test cell, :meth:`NotebookCells.start` opens the socket (once per kernel) and starts the
test in a thread of the grading process, which waits for the agent; the caller then runs :meth:`serve_source` in
the kernel (the agent serves until the test is done) and calls :meth:`NotebookCells.finish` for the
:class:`~.resolution.Outcome`. Any failure of this machinery is an ``error`` outcome (0 points, fail closed).
"""

from __future__ import annotations

import contextvars
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..i18n import tr
from . import channel
from .resolution import KernelGone, Outcome, Refusal, Session, TestNamespace, bound_names, run_instructor_cell, run_test

__all__ = ["NotebookCells", "Run", "ordinary_source"]

#: seconds the grading process gives the instructor's code of one test cell (TensorFlow's import included)
INSTRUCTOR_SECONDS = 300
#: one test cell's instructor code runs at a time in a grading process (it changes the working folder)
_CWD_LOCK = threading.Lock()


def _meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def ordinary_source(path: str, token: str) -> str:
    """The request the kernel runs at an ordinary test cell: serve the grading process until it is done."""
    return f"__import__('grader_utils.cells.agent').cells.agent.serve({path!r}, {token!r})"


@dataclass
class Run:
    """One test cell under way."""

    grade_id: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    outcome: Outcome | None = None


class NotebookCells:
    """The ordinary test cells of the instructor's notebook ``source_nb`` (grade_id -> points in ``tests``)."""

    def __init__(self, source_nb: Path, tests: dict[str, float], seconds: float = 30) -> None:
        nb = nbformat.read(source_nb, as_version=4)
        self.folder = Path(source_nb).parent
        self.tests = dict(tests)
        self.seconds = seconds
        #: (kind, grade_id or '', source) in notebook order; kind: 'instructor' or 'test'
        self.cells: list[tuple[str, str, str]] = []
        student: set[str] = set()
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            meta = _meta(cell)
            if meta.get("solution"):
                student |= bound_names(cell.source)
            elif meta.get("grade"):
                self.cells.append(("test", str(meta.get("grade_id", "")), cell.source))
            elif "demo" not in cell.get("metadata", {}).get("tags", []):
                self.cells.append(("instructor", "", cell.source))
        self.space = TestNamespace(student)
        self.done = 0  # cells of self.cells run so far
        self.notes: list[str] = []  # instructor cells that failed here
        self.server: Any = None
        self.path = ""

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def start(self, grade_id: str, probe_folder: Path) -> Run:
        """Open the socket (once) and start the test cell ``grade_id`` in a thread that waits for the agent."""
        if self.server is None:
            self.server = channel.listen(probe_folder)
            self.path = str(Path(probe_folder) / channel.SOCKET_NAME)
        run = Run(grade_id, secrets.token_hex(16))
        context = contextvars.copy_context()  # the grading run's language, in the test's thread too
        run.thread = threading.Thread(
            target=context.run, args=(self._run, run), name=f"test-cell-{grade_id}", daemon=True
        )
        run.thread.start()
        return run

    def serve_source(self, run: Run) -> str:
        return ordinary_source(self.path, run.token)

    def finish(self, run: Run) -> Outcome:
        """The outcome once the kernel's request has ended (the agent connected and was told done, or never
        connected)."""
        run.stop.set()
        assert run.thread is not None
        run.thread.join(INSTRUCTOR_SECONDS + self.seconds + 10)
        if run.thread.is_alive() or run.outcome is None:
            return Outcome("error", 0.0, tr("the grader did not finish this test cell"))
        return run.outcome

    def _run(self, run: Run) -> None:
        try:
            run.outcome = self._test(run)
        except BaseException as exc:  # noqa: BLE001  (fail closed: the grader's failure is 0 with its reason)
            error = f"{type(exc).__name__}: {exc}"[:300]
            run.outcome = Outcome("error", 0.0, tr("the grader failed on this test cell ({error})", error=error))

    def _test(self, run: Run) -> Outcome:
        try:
            conn = channel.accept(self.server, run.token, self.seconds + 60, run.stop)
        except channel.ChannelError:
            return Outcome("crash", 0.0, tr("the notebook's kernel did not answer the grader at this test cell"))
        session = Session(conn, self.seconds)
        self.space.session = session
        try:
            with _CWD_LOCK:
                old = os.getcwd()
                os.chdir(self.folder)  # the instructor's data files, beside the instructor's notebook
                try:
                    return self._cells_until(run.grade_id)
                finally:
                    os.chdir(old)
        finally:
            self.space.session = None
            session.done()
            conn.close()

    def _cells_until(self, grade_id: str) -> Outcome:
        """Run the instructor's cells up to the test cell ``grade_id`` (those not run yet), then the test cell."""
        at = next((i for i, (kind, gid, _) in enumerate(self.cells) if kind == "test" and gid == grade_id), None)
        if at is None:
            return Outcome("error", 0.0, tr("the instructor's notebook has no test cell {test}", test=grade_id))
        try:
            while self.done < at:
                kind, _, source = self.cells[self.done]
                self.done += 1
                if kind == "instructor":
                    problem = run_instructor_cell(source, self.space)
                    if problem and len(self.notes) < 20:
                        self.notes.append(problem)
        except KernelGone as exc:
            return Outcome("timeout" if exc.timeout else "crash", 0.0, str(exc))
        except Refusal as exc:
            return Outcome(
                "refused",
                0.0,
                tr("your code gave a value that is not plain data, so the test could not use it: {what}", what=exc),
            )
        self.done = max(self.done, at + 1)
        return run_test(self.cells[at][2], self.space, self.tests.get(grade_id, 0.0), label=f"test cell {grade_id}")
