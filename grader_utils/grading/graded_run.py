"""One sandboxed run per submitted notebook: the student's cells, and the engine's calls at each test cell.

nbgrader's autograde runs this module's :class:`SandboxedExecute` in place of its own ``Execute``
(see nbgrader_config.py), so the formgrader's Autograde button, ``nbgrader autograde`` and
``cnn-course grade`` all grade this way:

1. The machine is checked (:mod:`health`: disk, a moved course, the sandbox's programs): a broken environment
   raises before any score changes. Then the notebook's scores are set to 0 in the gradebook (a run that fails
   half-way leaves 0). A run in which no test was reached because the kernel died or never answered raises too
   when a sandboxed kernel with an empty folder fails as well (the environment's failure, not the student's).
2. One kernel starts in the sandbox (:mod:`grader_utils.sandbox.kernel`), with the student's plain files
   (links and special files refused). In a NumPy-only notebook it is locked before any cell
   runs (:mod:`native_lock`): no native code but NumPy's and the standard library's can run.
3. The student's cells run in order, as nbgrader runs them; their outputs are the feedback's.
   Unchanged lesson demos are skipped. Test cells never run in the kernel: at each test cell,
   the engine (:mod:`engine`) calls the student's functions as they are defined *there*, one
   call per request, each input written just before its call (hidden inputs come from the course
   secret) and each call timed from outside. Results come back as plain data. An ordinary test cell
   (plain ``assert``s, no ``check_*`` call) runs in this process, the student's names reached through
   the agent that the kernel runs meanwhile (:mod:`grader_utils.cells`).
4. The verdicts (computed here, with TensorFlow as ground truth) become the test cells' outputs,
   from which nbgrader's SaveAutoGrades takes the scores, and the record
   ``<notebook>.grading.json``. Fail closed: a failure of the grader (a verdict that raises,
   anything unexpected) gives every test ``failed`` and 0 points; a kernel that dies gives the
   tests it did not reach ``crash``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from ..cells import INSTRUCTOR_SECONDS, NotebookCells, Outcome
from ..i18n import tr, using_language
from ..sandbox.kernel import SandboxedKernelManager, refused_entries
from .context import GradingContext
from .engine import _result
from .gradebook import zero_auto_scores
from .health import environment_problem, kernel_problem
from .plan import (
    CallLog,
    GradingError,
    _Item,
    _plan,
    second_try_needed,
    submission_digest,
    timed_call_seconds,
)
from .probes import _probe_source, _Probes
from .records import Status, TestResult, write_record
from .specs import TestSpec, is_test_cell, read_specs, release_code_cells, release_demo_cells, student_cells

__all__ = ["SandboxedExecute"]

#: seconds a probe may run past its own alarm before the kernel is interrupted
CALL_GRACE = 5


class SandboxedExecute(Execute):
    """nbgrader's Execute with the sandboxed kernel, output caps, and the engine's verdicts as the
    test cells' outputs (see the module docstring)."""

    kernel_name = Unicode("python3", help="the kernel every submission runs in, whatever its metadata says").tag(
        config=True
    )
    max_output_bytes = Integer(2 * 1024**2, help="outputs kept per cell; the rest is dropped with a note").tag(
        config=True
    )
    max_notebook_output_bytes = Integer(
        8 * 1024**2, help="outputs kept for the whole notebook; the rest is dropped with a note"
    ).tag(config=True)

    def __init__(self, *args: Any, grading: GradingContext | None = None, **kwargs: Any) -> None:
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self.grading = grading
        self._cell_bytes: dict[int, int] = {}
        self._total_bytes = 0
        self._noted: set[int] = set()
        self._short_errors: set[int] = set()
        self._demo_cells: dict[str, str] = {}
        #: the release's code cells: an error in one the student left unchanged (e.g. the setup cell's
        #: Keras import, refused in a NumPy-only kernel) is not one of "your code cells"
        self._release_cells: dict[str, str] = {}
        self._plan: dict[str, tuple[TestSpec, list[_Item]]] = {}
        self._calls: list[dict] = []
        self._log = CallLog()
        self._hung: set[str] = set()
        self._results: dict[str, TestResult] = {}
        self._integrity: list[str] = []
        self._cell_errors: list[str] = []
        self._def_errors: dict[str, str] = {}
        self._probes: _Probes | None = None
        #: the notebook's ordinary test cells (plain asserts): run in this process against the kernel (cells/)
        self._cells: NotebookCells | None = None

    # ------------------------------------------------------------------ the run

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        ctx = self.grading or GradingContext.from_nbgrader(resources, _coursedir(self), _exchange_root(self))
        if ctx is not None:  # the verdicts and reasons in the course's language (nbgrader_config.py)
            with using_language(ctx.language):
                return self._preprocess_graded(nb, resources, km, ctx)
        return self._preprocess_graded(nb, resources, km, ctx)

    def _preprocess_graded(self, nb: NotebookNode, resources: Any, km: Any, ctx: GradingContext | None) -> Any:
        if ctx is None:  # not a graded run (e.g. a test running a notebook): no verdicts, no points
            nb, resources, _ = self._run_kernel(
                nb, resources, km, numpy_only=False, folder=_metadata_path(resources), mask=False
            )
            _put_verdicts(nb, [])
            return nb, resources
        if ctx.db_url:
            # the machine first (cheap): a broken environment changes no score, on any path (the formgrader's too)
            problem = environment_problem(_course_root(ctx), kernel=False)
            if problem is not None:
                raise GradingError(f"not graded: the grading environment failed: {problem}")
            n, a, s = ctx.record_names[2], ctx.record_names[1], ctx.record_names[0]
            zero_auto_scores(ctx.db_url, a, s, n)
        try:
            specs = [s for s in read_specs(ctx.source_nb) if ctx.only is None or s.grade_id in ctx.only]
        except Exception as exc:  # noqa: BLE001  (the instructor's notebook: the grader's own failure)
            raise GradingError(f"the instructor's notebook could not be read: {exc}") from exc
        results = self._grade(nb, resources, km, ctx, specs)
        if ctx.db_url and results and all(r.status in (Status.CRASH, Status.TIMEOUT) for r in results):
            problem = kernel_problem()  # no test reached: the student's kernel, or any kernel?
            if problem is not None:
                raise GradingError(f"not graded: the grading environment failed: {problem}")
        ctx.results = results
        if ctx.record is not None:
            write_record(ctx.record, *ctx.record_names, results)
        _put_verdicts(nb, results)
        return nb, resources

    def _grade(
        self, nb: NotebookNode, resources: Any, km: Any, ctx: GradingContext, specs: list[TestSpec]
    ) -> list[TestResult]:
        folder = ctx.submission_folder
        refused = refused_entries(folder) if folder is not None and folder.is_dir() else []
        if refused:
            reason = tr(
                "the submission holds entries that are not plain files, so it was not graded: {entries}. Submit "
                "the files themselves.",
                entries=", ".join(refused[:5]),
            )
            return [TestResult(s.grade_id, Status.INVALID, 0.0, s.points, reason) for s in specs]
        try:
            self._demo_cells = release_demo_cells(ctx.release_nb)
            self._release_cells = release_code_cells(ctx.release_nb)
            cells, self._integrity = student_cells(nb, specs, self._demo_cells)
            digest = submission_digest(cells, ctx.student or ctx.record_names[0], folder)
            self._calls, plan = _plan(specs, ctx.secret, ctx.context, digest)
            self._plan = {spec.grade_id: (spec, items) for spec, items in plan}
            ordinary = {s.grade_id: s.points for s in specs if not s.calls}
            seconds = float(self.timeout or 30)  # nbgrader's cell timeout
            self._cells = NotebookCells(ctx.source_nb, ordinary, seconds) if ordinary else None
        except Exception as exc:  # noqa: BLE001
            error = f"{type(exc).__name__}: {exc}"[:300]
            return _failed(specs, tr("the grader could not plan this notebook ({error})", error=error))
        # the NumPy-only lock is the rule of the registry's NumPy exercises: a notebook without their checks
        # (e.g. another course's) runs unlocked, still in the sandbox
        numpy_only = bool(self._calls) and not any(c.get("keras") for c in self._calls)
        self._log = CallLog(call_seconds=ctx.call_seconds if numpy_only else max(ctx.call_seconds, 120))
        self._results, self._hung, self._cell_errors, self._def_errors = {}, set(), [], {}
        try:
            _, _, problem = self._run_kernel(
                nb, resources, km, numpy_only=numpy_only, folder=folder, mask=True, hide=ctx.hide
            )
        except GradingError as exc:
            return _failed(specs, tr("the grader failed on this notebook ({error})", error=str(exc)[:300]))
        out = []
        for spec in specs:
            if spec.grade_id in self._results:
                out.append(self._results[spec.grade_id])
            elif spec.grade_id not in self._plan and (self._cells is None or spec.grade_id not in self._cells.tests):
                out.append(
                    TestResult(
                        spec.grade_id,
                        Status.INVALID,
                        0.0,
                        spec.points,
                        tr(
                            "this test cell calls no check the course's grader knows (only the course's "
                            "check_* functions give points)"
                        ),
                    )
                )
            elif problem:
                status = Status.TIMEOUT if "Timeout" in problem else Status.CRASH
                out.append(
                    TestResult(
                        spec.grade_id, status, 0.0, spec.points, tr("{problem}, before this test", problem=problem)
                    )
                )
            else:
                out.append(
                    TestResult(
                        spec.grade_id,
                        Status.FAILED,
                        0.0,
                        spec.points,
                        tr("the grader found no test cell to judge this test at"),
                    )
                )
        return out

    def _run_kernel(
        self,
        nb: NotebookNode,
        resources: Any,
        km: Any,
        numpy_only: bool,
        folder: Path | None,
        mask: bool,
        hide: list[Path] | None = None,
    ) -> tuple[NotebookNode, Any, str]:
        """Run the notebook in the sandboxed kernel; returns (nb, resources, what stopped it early).
        mask: the grader's judging modules are out of the kernel's reach (a graded run); hide: the course's
        folders (its directory, its exchange), hidden besides the kernel manager's defaults."""
        self._cell_bytes, self._total_bytes, self._noted, self._short_errors = {}, 0, set(), set()
        SandboxedKernelManager.submission_dir = folder
        SandboxedKernelManager.course_hide = list(hide or [])
        SandboxedKernelManager.numpy_only = numpy_only
        SandboxedKernelManager.mask_grader = mask
        old = os.environ.get("GRADER_ENGINE")
        os.environ["GRADER_ENGINE"] = "1"
        problem = ""
        before = list(SandboxedKernelManager.live)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except GradingError:
            raise
        except Exception as exc:  # noqa: BLE001  (a kernel that died: the student's code ended it)
            first = str(exc).splitlines()[0][:200] if str(exc) else ""
            problem = tr("the notebook's kernel stopped ({error})", error=f"{type(exc).__name__}: {first}")
        finally:
            for manager in [m for m in SandboxedKernelManager.live if m not in before]:
                manager.force_cleanup()  # a kernel that died or would not stop leaves nothing behind
            SandboxedKernelManager.submission_dir = None
            SandboxedKernelManager.course_hide = []
            SandboxedKernelManager.numpy_only = False
            SandboxedKernelManager.mask_grader = False
            if self._probes is not None:
                self._probes.close()
                self._probes = None
            if self._cells is not None:
                self._cells.close()
            if old is None:
                os.environ.pop("GRADER_ENGINE", None)
            else:
                os.environ["GRADER_ENGINE"] = old
        return nb, resources, problem

    # ------------------------------------------------------------------ cells

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        # an unchanged lesson demo defines nothing the tests use; while grading, skip it
        if self._demo_cells.get(cell.get("id", "")) == cell.get("source"):
            return cell, resources
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") == "code" and (is_test_cell(cell) or grade_id in self._plan):
            # test cells never run in the kernel: the engine judges here (an answer graded by hand is the
            # student's code: it runs below, and its outputs are what the grader reads in the formgrader)
            cell.outputs = []
            if grade_id in self._plan and grade_id not in self._results:
                self._results[grade_id] = self._judge(grade_id, resources, index)
            elif self._cells is not None and grade_id in self._cells.tests and grade_id not in self._results:
                self._results[grade_id] = self._ordinary(grade_id, resources, index)
            return cell, resources
        cell, resources = super().preprocess_cell(cell, resources, index)
        unchanged = self._release_cells.get(cell.get("id", "")) == cell.get("source")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and len(self._cell_errors) < 20:
                error = f"{out.get('ename')}: {str(out.get('evalue'))[:300]}"
                if not unchanged:
                    self._cell_errors.append(f"code cell {index}: {error}")
                for name in _defined_functions(cell.get("source", "")):
                    self._def_errors[name] = error
        return cell, resources

    def _judge(self, grade_id: str, resources: Any, index: int) -> TestResult:
        spec, items = self._plan[grade_id]
        probes = self._probe_folder()
        # untimed calls go together, one request per run of them; a timed call has a request of its own
        batch: list[int] = []
        for item in items:
            if item.timed:
                self._calls_in_kernel(batch, probes, resources, index)
                batch = []
                first, *others = item.indexes
                alarm = timed_call_seconds(item.time_limit(), self._log.call_seconds)
                self._calls_in_kernel([first], probes, resources, index, alarm)
                for i in others:
                    seconds = self._log.elapsed.get(first)
                    if (
                        seconds is not None
                        and probes.has_result(first)
                        and second_try_needed(item.time_limit(), seconds)
                    ):
                        self._calls_in_kernel([i], probes, resources, index, alarm)
                    else:
                        self._log.skipped.add(i)
            else:
                batch += item.indexes
        self._calls_in_kernel(batch, probes, resources, index)
        try:
            return _result(
                spec, items, self._calls, probes.result, self._log, self._integrity, self._cell_errors, self._def_errors
            )
        except GradingError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GradingError(f"{type(exc).__name__}: {exc}"[:300]) from exc

    def _ordinary(self, grade_id: str, resources: Any, index: int) -> TestResult:
        """An ordinary test cell: the test runs in this process (cells/), the kernel serves it meanwhile."""
        assert self._cells is not None
        points = self._cells.tests[grade_id]
        run = self._cells.start(grade_id, self._probe_folder().path)
        serve = NotebookNode(
            cell_type="code",
            source=self._cells.serve_source(run),
            metadata={},
            outputs=[],
            execution_count=None,
            id=f"grader-test-{index}",
        )
        old_timeout = self.timeout  # type: ignore[has-type]
        self.timeout = int(self._cells.seconds + INSTRUCTOR_SECONDS)
        test_cell = self.nb.cells[index]
        try:
            Execute.preprocess_cell(self, serve, resources, index)
        except Exception:  # a kernel that died: this test crashed, and the run stops as for the course's cells
            self._results[grade_id] = _ordinary_result(grade_id, points, self._cells.finish(run))
            raise
        finally:
            self.timeout = old_timeout
            self.nb.cells[index] = test_cell
        return _ordinary_result(grade_id, points, self._cells.finish(run))

    def _probe_folder(self) -> _Probes:
        if self._probes is None:
            folder = getattr(self.km, "probe_folder", None)
            if folder is None:
                raise GradingError("the sandboxed kernel has no probe folder")
            self._probes = _Probes(folder)
        return self._probes

    def _calls_in_kernel(
        self, indexes: list[int], probes: _Probes, resources: Any, index: int, alarm: int | None = None
    ) -> None:
        """Make calls ``indexes`` in the kernel in one request, timed from here (from the moment their
        inputs exist until the kernel answers); each may run ``alarm`` seconds (default: call_seconds)."""
        todo = []
        for i in indexes:
            if self._calls[i]["func"] in self._hung:
                self._log.timeouts.add(i)
            else:
                todo.append(i)
        if not todo:
            return
        seconds = int(self._log.call_seconds) if alarm is None else int(alarm)
        if alarm is not None:
            self._log.alarms.update({i: seconds for i in todo})
        source = (
            _probe_source(todo[0], probes.path, seconds)
            if len(todo) == 1
            else f"__import__('grader_utils.sandbox.probe').sandbox.probe.run_many("
            f"{todo!r}, {str(probes.path)!r}, {seconds})"
        )
        probe = NotebookNode(
            cell_type="code", source=source, metadata={}, outputs=[], execution_count=None, id=f"grader-call-{todo[0]}"
        )
        old_timeout = self.timeout  # a traitlet of nbclient
        self.timeout = min(seconds * len(todo), seconds + 5 * len(todo)) + CALL_GRACE
        test_cell = self.nb.cells[index]
        start = time.monotonic()
        try:
            for i in todo:
                probes.put_call(i, self._calls[i])
            Execute.preprocess_cell(self, probe, resources, index)
        finally:
            self.timeout = old_timeout
            self.nb.cells[index] = test_cell  # nbclient puts the cell it ran at that index: the test cell stays
        elapsed = time.monotonic() - start
        timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in probe.outputs)
        for i in todo:
            if timed_out and not probes.has_result(i):
                self._log.timeouts.add(i)
                self._hung.add(self._calls[i]["func"])
            else:
                self._log.elapsed[i] = elapsed

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """nbclient's handling of one kernel message, with every kind of output counted against the caps
        (``max_output_bytes`` per cell, ``max_notebook_output_bytes`` per notebook): streams, displays and
        their metadata, results, errors (ename, evalue, traceback), display updates (counted once per
        output they rewrite) and widget messages (whose state nbclient keeps in the notebook). Past a cap
        the message is dropped with one note per cell; an error past it is kept as its name and the start
        of its message, without its traceback (the grader reads which errors the student's cells raised)."""
        msg_type = msg.get("msg_type", "")
        if msg_type in _UNCOUNTED:
            return super().process_message(msg, cell, cell_index)
        content = msg.get("content") or {}
        size = _content_size(content)
        transient = content.get("transient") if isinstance(content, dict) else None
        display_id = transient.get("display_id") if isinstance(transient, dict) else None
        if display_id:  # nbclient rewrites every earlier output of this display with the new data
            size *= 1 + sum(len(v) for v in getattr(self, "_display_id_map", {}).get(display_id, {}).values())
        used = self._cell_bytes.get(cell_index, 0)
        limit, whole = self.max_output_bytes, self.max_notebook_output_bytes
        if used + size > limit or self._total_bytes + size > whole:
            cell_over = used + size > limit
            if msg_type == "error" and isinstance(content, dict) and cell_index not in self._short_errors:
                self._short_errors.add(cell_index)  # one short error per cell past the cap, no more
                evalue = str(content.get("evalue", ""))[:300]
                content = {"ename": str(content.get("ename", ""))[:100], "evalue": evalue, "traceback": []}
                msg = {**msg, "content": content}
                size = _content_size(content)
            else:
                size = 0
            self._note(cell, cell_index, cell_over)
            if not size:
                return None
        self._cell_bytes[cell_index] = used + size
        self._total_bytes += size
        return super().process_message(msg, cell, cell_index)

    def _note(self, cell: NotebookNode, cell_index: int, cell_over: bool) -> None:
        """The one note a cell gets when its outputs are cut."""
        if cell_index in self._noted:
            return
        self._noted.add(cell_index)
        what = (
            tr("this cell printed more than {kib} KiB", kib=self.max_output_bytes // 1024)
            if cell_over
            else tr("the notebook printed more than {mib} MiB", mib=self.max_notebook_output_bytes // 1024**2)
        )
        note = tr("[output truncated: {what}]", what=what)
        cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text="\n" + note + "\n"))


#: kernel messages that put nothing in the notebook
_UNCOUNTED = frozenset({"status", "execute_input", "clear_output"})


def _content_size(content: Any, limit: int = 1 << 62) -> int:
    """The size of a kernel message's content as it would be kept: characters of every string (keys
    included), 8 per other value; walked without recursion."""
    total, stack = 0, [content]
    while stack and total <= limit:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, dict):
            total += 8
            for k, v in value.items():
                total += len(k) if isinstance(k, str) else 8
                stack.append(v)
        elif isinstance(value, (list, tuple)):
            total += 8
            stack.extend(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            total += len(value)
        else:
            total += 8
    return total


def _defined_functions(source: Any) -> list[str]:
    """Names of the functions a code cell defines at its top level (none when it does not parse)."""
    import ast

    try:
        tree = ast.parse(source if isinstance(source, str) else "".join(source))
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _course_root(ctx: GradingContext) -> Path | None:
    """The course directory of a graded run (its instructor notebook is ``source/<assignment>/<notebook>``)."""
    parents = Path(ctx.source_nb).resolve().parents
    return parents[2] if len(parents) > 2 else None


def _coursedir(pp: Any) -> Any:
    """nbgrader's ``CourseDirectory`` of the app running this preprocessor (its exporter's parent, the
    autograde converter, holds it), or None outside nbgrader."""
    node = getattr(pp, "parent", None)
    while node is not None:
        coursedir = getattr(node, "coursedir", None)
        if coursedir is not None:
            return coursedir
        node = getattr(node, "parent", None)
    return None


def _exchange_root(pp: Any) -> str | None:
    """nbgrader's exchange folder when the configuration names one (``Exchange.root``)."""
    try:
        root = pp.config.Exchange.get("root")
    except AttributeError:
        return None
    return str(root) if root else None


def _metadata_path(resources: Any) -> Path | None:
    path = (resources or {}).get("metadata", {}).get("path")
    return Path(path) if path else None


#: an ordinary test cell's outcome (cells/) -> its status here
_OUTCOME_STATUS = {
    "passed": Status.OK,
    "partial": Status.OK,
    "failed": Status.WRONG,
    "refused": Status.INVALID,
    "timeout": Status.TIMEOUT,
    "crash": Status.CRASH,
    "error": Status.FAILED,
}


def _ordinary_result(grade_id: str, points: float, outcome: Outcome) -> TestResult:
    """The result of an ordinary test cell: nbgrader's score for what the test did (0 for any problem)."""
    status = _OUTCOME_STATUS.get(outcome.status, Status.FAILED)
    score = min(max(float(outcome.score), 0.0), points) if status == Status.OK else 0.0
    reason = outcome.message
    if status == Status.OK and score < points:  # the test cell's own partial credit (its last value)
        status = Status.WRONG
        reason = tr("the test cell gave {score:g} of {points:g} points", score=score, points=points)
    return TestResult(grade_id, status, score, points, reason)


def _failed(specs: list[TestSpec], reason: str) -> list[TestResult]:
    return [TestResult(s.grade_id, Status.FAILED, 0.0, s.points, reason) for s in specs]


def _put_verdicts(nb: NotebookNode, results: list[TestResult]) -> None:
    from .secure_grade import put_verdicts

    put_verdicts(nb, results)
