"""The trusted grading engine: verdicts computed outside the student's process.

For one submitted notebook:

1. Read it (unreadable JSON: every test is ``invalid``).
2. Take the *instructor's* test cells from ``source/`` (never the submission's) and read
   which checks they run (``check_max_pool2d(max_pool2d, "random", seed=2024)`` ...). Calls
   written inside a hidden-test region take their inputs from the course secret (see
   :func:`hidden_seed`), never from the seed written in the cell.
3. Run the student's code cells (not their test cells) in the sandbox, where TensorFlow,
   Keras, SciPy & co. are masked, and call the student's functions on inputs made here, one
   call at a time: each input is written only just before its call, and each call is timed
   from here (:class:`_Driver`); results come back as plain data (:mod:`protocol`).
4. Judge every result here with the verdict functions of :mod:`checks` (TensorFlow ground
   truth computed in this process). Nothing the sandbox says about itself counts: only the
   values it returns and the times measured from outside.
5. Record per test cell a status (ok, wrong, timeout, crash, invalid, integrity), a
   reason and a score; a failure of the grading process itself raises :class:`GradingError`
   (the caller then records the whole submission as failed, with 0 points).

Checks of Keras models (assignment 03) go the same way: the model comes back as its Keras
JSON and compile settings and is rebuilt and judged here (:mod:`model_engine`).
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import os
import select
import signal
import subprocess
import time
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat

from . import checks, model_engine, protocol
from .cases import Case, suite_cases
from .compare import CheckResult
from .numpy_only import FORBIDDEN
from .sandbox import Limits, SandboxResult, run_sandboxed

__all__ = ["CHECKS", "GradingError", "TestSpec", "TestResult", "read_specs", "grade_notebook", "read_record",
           "write_record"]

#: check function -> (case family, verdict): the same pairs the test cells use
CHECKS: dict[str, tuple[str, Callable[[Case, Any], CheckResult]]] = checks.CHECK_FAMILIES
#: packages hidden in the sandbox: every NumPy-only offender except Pillow, which matplotlib
#: needs to import (the profile hook of :mod:`numpy_only` still catches Pillow doing the work)
MASKED = tuple(name for name in FORBIDDEN if name != "PIL")
#: suites whose calls are timed from outside the sandbox (the verdict limits the time)
TIMED = {("check_conv2d_fast", "large")}
#: checks of Keras models (assignment 03): models come back as JSON, see :mod:`model_engine`
MODEL_CHECKS = model_engine.MODEL_CHECKS


@dataclass
class CheckCall:
    check: str
    func: str
    suite: str
    seed: int
    n: int | None
    funcs: list[str] = field(default_factory=list)  # model checks: the student's functions they call
    kwargs: dict[str, Any] = field(default_factory=dict)  # model checks: their keyword arguments
    hidden: bool = False  # written between BEGIN/END HIDDEN TESTS: its inputs come from the course secret

    @property
    def model(self) -> bool:
        return self.check in MODEL_CHECKS


@dataclass
class TestSpec:
    """One test cell of the instructor's notebook."""

    grade_id: str
    points: float
    calls: list[CheckCall]
    source: str

    @property
    def engine(self) -> bool:
        return bool(self.calls) and all(c.check in CHECKS or (c.model and c.funcs) for c in self.calls)


@dataclass
class TestResult:
    grade_id: str
    status: str  # ok | wrong | timeout | crash | invalid | integrity | failed
    score: float
    max_score: float
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # keys of feedback.HINTS naming the likely mistake


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def _hidden_lines(source: str) -> set[int]:
    """Line numbers (1-based) inside ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``."""
    lines, hidden = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif hidden:
            lines.add(number)
    return lines


def read_specs(source_nb: Path) -> list[TestSpec]:
    """The test cells of the instructor's notebook and the checks each one runs."""
    nb = nbformat.read(source_nb, as_version=4)
    specs = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        calls = []
        hidden = _hidden_lines(cell.source)
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODEL_CHECKS:
                calls.append(_model_call(node))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
                try:
                    if node.func.id not in CHECKS or not node.args or not isinstance(node.args[0], ast.Name):
                        raise ValueError("not a check the engine runs")
                    kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
                except ValueError:
                    calls.append(CheckCall(node.func.id, "", "", 0, None))  # not gradable: the cell scores 0
                    continue
                suite = _literal(node.args[1]) if len(node.args) > 1 else kwargs.get("suite", "basic")
                calls.append(CheckCall(node.func.id, node.args[0].id, suite, int(kwargs.get("seed", 0)),
                                       kwargs.get("n")))
            else:
                continue
            calls[-1].hidden = node.lineno in hidden
        specs.append(TestSpec(meta["grade_id"], float(meta.get("points", 0)), calls, cell.source))
    return specs


def submission_digest(cells: list[str]) -> str:
    """A fingerprint of the student's code: hidden inputs change whenever the code does, so
    inputs seen in one graded run are worth nothing in the next submission."""
    h = hashlib.sha256()
    for cell in cells:
        h.update(cell.encode("utf-8", "replace"))
        h.update(b"\0")
    return h.hexdigest()


def hidden_seed(secret: bytes, context: str, grade_id: str, check: str, seed: int, digest: str) -> int:
    """The seed of a hidden suite: HMAC-SHA256 of the course secret over where the test is and what
    code it grades. The same secret and the same submission give the same inputs (regrades are
    reproducible); without the secret they cannot be predicted."""
    message = "\x1f".join([context, grade_id, check, str(seed), digest]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")


def _timed_verdict(name: str, verdict: Callable[[Case, Any], CheckResult]
                   ) -> Callable[[Case, Any, float], CheckResult]:
    """The verdict of a suite that is also timed (``conv2d_fast`` on large inputs): the seconds are
    measured by the grading process, from the moment the call's input exists until its answer does."""
    def judge(case: Case, value: Any, seconds: float) -> CheckResult:
        result = verdict(case, value)
        if not result.passed:
            return result
        limit = checks.time_limit(case)
        if seconds > limit:
            return CheckResult(False, limit, seconds, checks.slow_message(name, seconds, case, limit),
                               {"problem": "rule"})
        return result
    return judge


def _model_call(node: ast.Call) -> CheckCall:
    """A model check call: its leading arguments name the student's functions, its keywords are
    literals or function names (``build=build_cifar_model``). Anything else is not gradable (0 points)."""
    check = node.func.id  # type: ignore[attr-defined]
    count = MODEL_CHECKS[check][0]
    try:
        if len(node.args) != count or not all(isinstance(a, ast.Name) for a in node.args):
            raise ValueError("unexpected arguments")
        kwargs = {}
        for k in node.keywords:
            if not k.arg:
                raise ValueError("**kwargs")
            kwargs[k.arg] = k.value.id if isinstance(k.value, ast.Name) else _literal(k.value)
    except ValueError:
        return CheckCall(check, "", "", 0, None)
    funcs = [a.id for a in node.args]  # type: ignore[attr-defined]
    return CheckCall(check, funcs[0], "", int(kwargs.get("seed", 0)) if isinstance(kwargs.get("seed", 0), int) else 0,
                     None, funcs, kwargs)


def release_demo_cells(release_nb: Path | None) -> dict[str, str]:
    """{cell id: source} of the release notebook's cells tagged ``demo`` (lesson demos and figures)."""
    if release_nb is None or not Path(release_nb).exists():
        return {}
    nb = nbformat.read(release_nb, as_version=4)
    return {c.get("id", ""): c.source for c in nb.cells if "demo" in c.get("metadata", {}).get("tags", [])}


def _student_cells(nb: Any, specs: list[TestSpec], demos: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The student's code cells to run (not test cells, not unchanged lesson demos), and integrity notes."""
    test_ids = {s.grade_id for s in specs}
    demos = demos or {}
    seen: dict[str, int] = {}
    cells, notes = [], []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        if demos.get(cell.get("id", "")) == cell.get("source"):
            continue  # an unchanged lesson demo: it defines nothing the tests call, and can be slow
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in test_ids or meta.get("grade"):
            seen[grade_id] = seen.get(grade_id, 0) + 1
            continue
        source = cell.get("source", "")
        cells.append(source if isinstance(source, str) else "".join(source))
    for spec in specs:
        if seen.get(spec.grade_id, 0) == 0:
            notes.append(f"test cell {spec.grade_id} was deleted")
        elif seen[spec.grade_id] > 1:
            notes.append(f"test cell {spec.grade_id} appears {seen[spec.grade_id]} times")
    return cells, notes


class GradingError(RuntimeError):
    """The grading process itself could not judge a submission (a verdict raised, Keras failed...).
    Never a score: the caller records the submission as failed with 0 points."""


class _Lines:
    """Lines from a pipe, each awaited until a deadline (time.monotonic())."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def next(self, deadline: float) -> str | None:
        """The next line; ``""`` when the pipe is closed; None when the deadline passed first."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return ""
            self.buffer += chunk
            if len(self.buffer) > 65536:  # nobody but a liar says that much
                return ""
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("ascii", "replace").strip() or "?"


#: seconds a call may run past the sandbox's own per-call alarm before the grading process kills it
CALL_GRACE = 5.0


class _Driver:
    """Feeds the harness one call at a time (its input written just before it is asked for) and
    times each call from outside: from the moment the input exists until the answer is announced."""

    def __init__(self, scratch: Path, calls: list[dict], call_seconds: float) -> None:
        self.scratch, self.calls, self.call_seconds = scratch, calls, call_seconds
        self.elapsed: dict[int, float] = {}
        self.timed_out_at: int | None = None  # the call (or -1: the cells) that ran out of time
        self.violation: str = ""

    def __call__(self, proc: subprocess.Popen, done_fd: int, deadline: float) -> None:
        lines = _Lines(done_fd)
        first = lines.next(deadline)
        if first != "ready":
            if first is None:
                self._kill(proc, -1)
            return
        assert proc.stdin is not None
        for i, call in enumerate(self.calls):
            start = time.monotonic()
            tmp = self.scratch / f".call_{i}.json"
            protocol.save(call, tmp)
            os.replace(tmp.with_suffix(".npz"), self.scratch / f"call_{i}.npz")
            os.replace(tmp, self.scratch / f"call_{i}.json")
            try:
                proc.stdin.write(f"{i}\n".encode())
                proc.stdin.flush()
            except OSError:
                return
            answer = lines.next(min(deadline, start + self.call_seconds + CALL_GRACE))
            if answer is None:
                self._kill(proc, i)
                return
            if answer != str(i):
                if answer:
                    self.violation = f"the notebook's process answered {answer[:20]!r} instead of call {i}"
                    self._kill(proc, None)
                return
            self.elapsed[i] = time.monotonic() - start
        try:
            proc.stdin.write(b"end\n")
            proc.stdin.flush()
        except OSError:
            pass

    def _kill(self, proc: subprocess.Popen, at: int | None) -> None:
        self.timed_out_at = at
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _sandbox_run(cells: list[str], driver: _Driver, scratch: Path, limits: Limits,
                 hide: list[Path], call_seconds: int = 20, mask: bool = True) -> SandboxResult:
    (scratch / "cells.json").write_text(json.dumps(cells))
    package_root = Path(checks.__file__).resolve().parent
    return run_sandboxed([sys.executable, "-m", "grader_utils.harness"], scratch, hide=hide,
                         expose=[Path(sys.prefix), package_root], mask_packages=MASKED if mask else (), limits=limits,
                         env={"PYTHONPATH": str(package_root.parent), "GRADER_CALL_SECONDS": str(call_seconds),
                              "NBGRADER_EXECUTION": "autograde"},
                         driver=driver)


def _cell_errors(scratch: Path) -> list[str]:
    """The errors the student's cells raised in the sandbox (text written by the sandbox: shown only)."""
    try:
        errors = json.loads((scratch / "cells_report.json").read_text()[:100_000])
        return [str(e)[:300] for e in errors][:5] if isinstance(errors, list) else []
    except (OSError, ValueError):
        return []


@dataclass
class _Item:
    """One case of a test cell: the calls made for it (a timed case is called twice and the
    faster call counts), and its verdict ``verdict(case, value)`` or, timed, ``(case, value, seconds)``."""

    indexes: list[int]
    case: Case
    verdict: Callable[..., CheckResult]
    timed: bool = False


def _raw_result(scratch: Path, index: int) -> dict:
    """The result of call ``index`` as the sandbox wrote it, strictly decoded."""
    raw = protocol.load(scratch / f"result_{index}.json")
    if not isinstance(raw, dict):
        raise protocol.ProtocolError("result is not a record")
    return raw


def _judge(item: _Item, raw: dict, seconds: float) -> tuple[str, CheckResult | None, str]:
    """(status, verdict, detail) for one case as the sandbox reported it: ``ok``/``wrong`` with the
    verdict, or ``timeout``/``invalid`` with a detail. A verdict that raises is the grader's own
    failure: :class:`GradingError`."""
    status = raw.get("status")
    if status == "returned":
        value = raw.get("value")
        if isinstance(value, protocol.Unsupported):
            return "wrong", CheckResult(False, None, None, f"It returned {value.description}, which is not plain "
                                                           "data (arrays, tuples, ints)."), ""
        try:
            result = item.verdict(item.case, value, seconds) if item.timed else item.verdict(item.case, value)
        except Exception as exc:  # noqa: BLE001
            raise GradingError(f"the verdict on {item.case.call_text('f')} raised {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from exc
        if not isinstance(result, CheckResult):
            raise GradingError(f"the verdict returned {type(result).__name__}, not a CheckResult")
        return ("ok" if result.passed else "wrong"), result, ""
    if status == "timeout":
        return "timeout", None, str(raw.get("detail", "timed out"))
    if status in ("missing", "not_implemented", "raised"):
        return "wrong", CheckResult(False, None, None, str(raw.get("detail", status))), ""
    return "invalid", None, f"unexpected result {str(status)[:50]}"


def _plan(specs: list[TestSpec], secret: bytes | None, context: str, digest: str
          ) -> tuple[list[dict], list[tuple[TestSpec, list[_Item]]]]:
    """The calls to make in the sandbox, in order, and per engine-graded test cell its cases."""
    calls: list[dict] = []
    plan: list[tuple[TestSpec, list[_Item]]] = []
    for spec in specs:
        if not spec.engine:
            continue
        items: list[_Item] = []
        for call in spec.calls:
            if call.model:
                for sandbox_call, model_verdict in model_engine.plan(call.check, call.funcs, call.kwargs):
                    case = Case((), dict(sandbox_call.get("kwargs", {})))  # shown as the call made
                    items.append(_Item([len(calls)], case, lambda case, value, v=model_verdict: v(value)))
                    calls.append(sandbox_call)
                continue
            family, verdict = CHECKS[call.check]
            timed = (call.check, call.suite) in TIMED
            seed = call.seed
            if call.hidden and secret is not None:
                seed = hidden_seed(secret, context, spec.grade_id, call.check, call.seed, digest)
            for case in suite_cases(family, call.suite, seed=seed, n=call.n):
                request = {"func": call.func, "args": list(case.args), "kwargs": dict(case.kwargs)}
                copies = 2 if timed else 1
                items.append(_Item(list(range(len(calls), len(calls) + copies)), case,
                                   _timed_verdict(call.func, verdict) if timed else verdict, timed))
                calls += [request] * copies
        plan.append((spec, items))
    return calls, plan


def grade_notebook(submission: Path, source_nb: Path, *, release_nb: Path | None = None,
                   hide: list[Path] | None = None, limits: Limits = Limits(wall_seconds=300),
                   call_seconds: int = 20, only: set[str] | None = None, secret: bytes | None = None,
                   context: str = "") -> list[TestResult]:
    """Grade one submitted notebook against the instructor's notebook ``source_nb``.

    release_nb: the student version, to skip its unchanged ``demo``-tagged cells;
    hide: folders the student's code must not see (the course directory);
    call_seconds: time limit of one call of a student's function;
    only: grade just these test cells (grade_ids);
    secret: the course secret from which hidden suites take their inputs (None: the seeds written in
    the test cells, as when the instructor runs the notebook); context: where the notebook belongs
    (``assignment/notebook``), mixed into those inputs.

    Raises :class:`GradingError` when the grading process itself fails (never a partial score)."""
    specs = [s for s in read_specs(source_nb) if only is None or s.grade_id in only]
    try:
        nb = nbformat.reads(Path(submission).read_text(errors="replace"), as_version=4)
    except Exception as exc:  # invalid JSON, wrong schema, unreadable file
        reason = f"the notebook could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        return [TestResult(s.grade_id, "invalid", 0.0, s.points, reason) for s in specs]
    try:
        cells, integrity = _student_cells(nb, specs, release_demo_cells(release_nb))
    except Exception as exc:  # a notebook that nbformat reads but whose cells are not what they should be
        reason = f"the notebook's cells could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        return [TestResult(s.grade_id, "invalid", 0.0, s.points, reason) for s in specs]
    calls, plan = _plan(specs, secret, context, submission_digest(cells))
    uses_keras = any(c.get("keras") for c in calls)
    if uses_keras:  # TensorFlow must load in the sandbox: more memory and time, nothing masked
        limits = Limits(wall_seconds=max(limits.wall_seconds, 600), cpu_seconds=max(limits.cpu_seconds, 600),
                        memory_bytes=max(limits.memory_bytes, 12 * 1024 ** 3), processes=limits.processes,
                        file_bytes=limits.file_bytes, output_bytes=limits.output_bytes)
        call_seconds = max(call_seconds, 120)

    run: SandboxResult | None = None
    driver = _Driver(Path(), calls, call_seconds)
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        if calls:
            driver.scratch = scratch
            run = _sandbox_run(cells, driver, scratch, limits, hide or [], call_seconds, mask=not uses_keras)
        results: list[TestResult] = []
        for spec in specs:
            if not spec.engine:
                results.append(TestResult(spec.grade_id, "invalid", 0.0, spec.points,
                                          "this test cell calls no check the course's grader knows"))
                continue
            items = next(i for s, i in plan if s is spec)
            results.append(_result(spec, items, calls, scratch, driver, run, integrity))
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _result(spec: TestSpec, items: list[_Item], calls: list[dict], scratch: Path, driver: _Driver,
            run: SandboxResult | None, integrity: list[str]) -> TestResult:
    """The verdict on one test cell from the results of its calls."""
    # the same report as the test cell's: how many cases are wrong, one of them, the likely cause
    report = checks.SuiteReport(spec.calls[0].func, spec.calls[0].suite, len(items))
    status, reason, causes = "ok", "", []
    for item in items:
        if not all(i in driver.elapsed for i in item.indexes):
            missing = next(i for i in item.indexes if i not in driver.elapsed)
            if driver.violation:
                status, reason = "invalid", driver.violation
            elif driver.timed_out_at is not None and (driver.timed_out_at == -1 or missing >= driver.timed_out_at):
                status, reason = "timeout", ("the notebook's code ran out of time before this test"
                                             if driver.timed_out_at == -1 or missing > driver.timed_out_at
                                             else f"{item.case.call_text(calls[missing]['func'])} did not return "
                                                  f"within {driver.call_seconds:g} s")
            else:
                status = "crash"
                reason = (f"the notebook's process ended before this test "
                          f"(exit {run.returncode if run else '?'}"
                          f"{', ' + run.signal if run and run.signal else ''})")
            break
        try:
            raws = [_raw_result(scratch, i) for i in item.indexes]
        except Exception as exc:  # noqa: BLE001  (whatever the files hold, it is the sandbox's fault)
            status, reason = "invalid", f"malformed result ({type(exc).__name__}: {str(exc)[:200]})"
            break
        seconds = min(driver.elapsed[i] for i in item.indexes)
        raw = raws[0]
        call_status, result, detail = _judge(item, raw, seconds)
        if call_status in ("timeout", "invalid"):
            status, reason = call_status, f"{item.case.call_text(calls[item.indexes[0]]['func'])}: {detail}"
            break
        if result is not None and not result.passed:
            if raw.get("status") in ("missing", "raised"):
                cell_errors = [e for e in _cell_errors(scratch) if "ImportError" in e
                               or raw.get("status") == "missing"]
                if cell_errors:
                    result = CheckResult(False, None, None, result.message + " (errors in your code cells: "
                                         + "; ".join(cell_errors[:2]) + ")")
            report.failures.append((item.case.call_text(calls[item.indexes[0]]["func"]), result))
    if status == "ok" and not report.passed:
        status = "wrong"
        if any(c.model for c in spec.calls):  # one call per check: its own message says it all
            reason = " ".join(result.message for _, result in report.failures)
        else:
            reason = report.message()
            key, _ = report.likely_cause()
            causes = [key] if key else []
    score = spec.points if status == "ok" else 0.0
    notes = [n for n in integrity if spec.grade_id in n]
    if notes and status == "ok":  # the functions were judged on their own: the points stand, the note tells
        status = "integrity"
    return TestResult(spec.grade_id, status, score, spec.points, reason, notes, causes)


def read_record(path: Path) -> list[TestResult]:
    """The results of a record written by :func:`write_record` (ValueError when it is not one)."""
    record = json.loads(Path(path).read_text())
    tests = record.get("tests") if isinstance(record, dict) else None
    if not isinstance(tests, list):
        raise ValueError(f"{path} is not a grading record")
    fields = set(TestResult.__dataclass_fields__)
    return [TestResult(**{k: v for k, v in t.items() if k in fields}) for t in tests]


def write_record(path: Path, student: str, assignment: str, notebook: str, results: list[TestResult]) -> None:
    """Write the record of one notebook atomically (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"student": student, "assignment": assignment, "notebook": notebook,
              "tests": [asdict(r) for r in results]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grading-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
