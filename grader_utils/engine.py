"""The trusted grading engine: verdicts computed outside the student's process.

For one submitted notebook:

1. Read it (unreadable JSON: every test is ``invalid``).
2. Take the *instructor's* test cells from ``source/`` (never the submission's) and read
   which checks they run (``check_max_pool2d(max_pool2d, "random", seed=2024)`` ...).
3. Run the student's code cells (not their test cells) in the sandbox, where TensorFlow,
   Keras, SciPy & co. are masked, and call the student's functions on inputs made here;
   results come back as plain data (:mod:`protocol`). For the NumPy-only notebooks the
   sandbox also gets ``GRADER_NUMPY_ONLY=1``: the harness then locks itself before the
   student's cells run (:mod:`native_lock`: NumPy and the standard library's compiled
   modules are loaded, then a seccomp filter refuses new executable memory and ``execve``),
   so no other native code (Pillow, a ``.so`` shipped in the notebook, another Python's
   packages, another program) can do the work. A lock that cannot be made exits the
   harness before any student code runs: a crash, 0 points.
4. Judge every result here with the verdict functions of :mod:`checks` (TensorFlow ground
   truth computed in this process).
5. Record per test cell a status (ok, wrong, timeout, crash, invalid, integrity), a
   reason and a score, atomically, in ``grading.json``.

Checks of Keras models (assignment 03) go the same way: the model comes back as its Keras
JSON and compile settings and is rebuilt and judged here (:mod:`model_engine`). The one check
still judged in nbgrader's (sandboxed) kernel, ``conv2d_fast``'s count of function calls, is
listed as ``kernel`` in the record.
"""

from __future__ import annotations

import ast
import json
import os
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

__all__ = ["CHECKS", "TestSpec", "TestResult", "read_specs", "grade_notebook", "write_record"]

#: check function -> (case family, verdict): the same pairs the test cells use
CHECKS: dict[str, tuple[str, Callable[[Case, Any], CheckResult]]] = checks.CHECK_FAMILIES
#: packages hidden in the sandbox: every NumPy-only offender except Pillow, which matplotlib
#: needs to import (the profile hook of :mod:`numpy_only` still catches Pillow doing the work)
MASKED = tuple(name for name in FORBIDDEN if name != "PIL")
#: suites the engine leaves to the kernel (they judge how the code runs, not what it returns)
KERNEL_ONLY = checks.KERNEL_ONLY
#: suites whose function calls the sandbox counts (the verdict limits them)
COUNTED = {("check_conv2d_fast", "large")}
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
        return bool(self.calls) and all((c.check in CHECKS and (c.check, c.suite) not in KERNEL_ONLY)
                                        or (c.model and c.funcs) for c in self.calls)


@dataclass
class TestResult:
    grade_id: str
    status: str  # ok | wrong | timeout | crash | invalid | integrity | kernel
    score: float
    max_score: float
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # keys of feedback.HINTS naming the likely mistake


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def read_specs(source_nb: Path) -> list[TestSpec]:
    """The test cells of the instructor's notebook and the checks each one runs."""
    nb = nbformat.read(source_nb, as_version=4)
    specs = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        calls = []
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODEL_CHECKS:
                calls.append(_model_call(node))
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
                try:
                    if node.func.id not in CHECKS or not node.args or not isinstance(node.args[0], ast.Name):
                        raise ValueError("not a check the engine runs")
                    kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
                except ValueError:
                    calls.append(CheckCall(node.func.id, "", "", 0, None))  # left to the kernel
                    continue
                suite = _literal(node.args[1]) if len(node.args) > 1 else kwargs.get("suite", "basic")
                calls.append(CheckCall(node.func.id, node.args[0].id, suite, int(kwargs.get("seed", 0)),
                                       kwargs.get("n")))
        specs.append(TestSpec(meta["grade_id"], float(meta.get("points", 0)), calls, cell.source))
    return specs


def _counted_verdict(name: str, verdict: Callable[[Case, Any], CheckResult]) -> Callable[[Case, Any], CheckResult]:
    """The verdict of a suite that also limits the function calls made (``conv2d_fast`` on a large
    input: a loop over output pixels makes thousands); the sandbox reports the count."""
    def judge(case: Case, value: Any) -> CheckResult:
        if not isinstance(value, dict) or not isinstance(value.get("calls"), int):
            return CheckResult(False, None, None, "the call count is missing")
        if value.get("tampered"):
            return CheckResult(False, None, None, f"{name} switched off the course's check of how it runs "
                                                  "(sys.setprofile); it scores 0 as submitted.")
        limit = checks.pixel_loop_limit(case)
        if value["calls"] > limit:
            return CheckResult(False, limit, value["calls"], checks.loop_message(name, value["calls"], case, limit))
        return verdict(case, value.get("value"))
    return judge


def _model_call(node: ast.Call) -> CheckCall:
    """A model check call: its leading arguments name the student's functions, its keywords are
    literals or function names (``build=build_cifar_model``). Anything else stays with the kernel."""
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


def _sandbox_run(cells: list[str], calls: list[dict], scratch: Path, limits: Limits,
                 hide: list[Path], call_seconds: int = 20, mask: bool = True) -> SandboxResult:
    (scratch / "cells.json").write_text(json.dumps(cells))
    protocol.save(calls, scratch / "calls.json")
    package_root = Path(checks.__file__).resolve().parent
    return run_sandboxed([sys.executable, "-m", "grader_utils.harness"], scratch, hide=hide,
                         expose=[Path(sys.prefix), package_root], mask_packages=MASKED if mask else (), limits=limits,
                         env={"PYTHONPATH": str(package_root.parent), "GRADER_CALL_SECONDS": str(call_seconds),
                              "NBGRADER_EXECUTION": "autograde", **({"GRADER_NUMPY_ONLY": "1"} if mask else {})})


def _cell_errors(scratch: Path) -> list[str]:
    """The errors the student's cells raised in the sandbox (text written by the sandbox: shown only)."""
    try:
        errors = json.loads((scratch / "cells_report.json").read_text()[:100_000])
        return [str(e)[:300] for e in errors][:5] if isinstance(errors, list) else []
    except (OSError, ValueError):
        return []


def _judge(verdict: Callable[[Case, Any], CheckResult], case: Case, raw: dict) -> tuple[str, CheckResult | None, str]:
    """(status, verdict, detail) for one call's result as the sandbox reported it: ``ok``/``wrong``
    with the verdict, or ``timeout``/``invalid`` with a detail."""
    status = raw.get("status")
    if status == "returned":
        value = raw.get("value")
        if isinstance(value, protocol.Unsupported):
            return "wrong", CheckResult(False, None, None, f"It returned {value.description}, which is not plain "
                                                           "data (arrays, tuples, ints)."), ""
        result = verdict(case, value)
        return ("ok" if result.passed else "wrong"), result, ""
    if status == "timeout":
        return "timeout", None, str(raw.get("detail", "timed out"))
    if status in ("missing", "not_implemented", "raised"):
        return "wrong", CheckResult(False, None, None, str(raw.get("detail", status))), ""
    return "invalid", None, f"unexpected result {str(status)[:50]}"


def grade_notebook(submission: Path, source_nb: Path, *, release_nb: Path | None = None,
                   hide: list[Path] | None = None, limits: Limits = Limits(wall_seconds=300),
                   call_seconds: int = 20, only: set[str] | None = None) -> list[TestResult]:
    """Grade one submitted notebook against the instructor's notebook ``source_nb``.

    release_nb: the student version, to skip its unchanged ``demo``-tagged cells;
    hide: folders the student's code must not see (the course directory);
    call_seconds: time limit of one call of a student's function;
    only: grade just these test cells (grade_ids)."""
    specs = [s for s in read_specs(source_nb) if only is None or s.grade_id in only]
    try:
        nb = nbformat.reads(Path(submission).read_text(errors="replace"), as_version=4)
    except Exception as exc:  # invalid JSON, wrong schema, unreadable file
        reason = f"the notebook could not be read ({type(exc).__name__}: {str(exc)[:200]})"
        return [TestResult(s.grade_id, "invalid", 0.0, s.points, reason) for s in specs]
    cells, integrity = _student_cells(nb, specs, release_demo_cells(release_nb))

    calls: list[dict] = []
    plan: list[tuple[TestSpec, list[tuple[int, Case, Callable]]]] = []
    for spec in specs:
        if not spec.engine:
            continue
        items = []
        for call in spec.calls:
            if call.model:
                for sandbox_call, model_verdict in model_engine.plan(call.check, call.funcs, call.kwargs):
                    case = Case((), dict(sandbox_call.get("kwargs", {})))  # shown as the call made
                    items.append((len(calls), case, lambda case, value, v=model_verdict: v(value)))
                    calls.append(sandbox_call)
                continue
            family, verdict = CHECKS[call.check]
            counted = (call.check, call.suite) in COUNTED
            for case in suite_cases(family, call.suite, seed=call.seed, n=call.n):
                items.append((len(calls), case, _counted_verdict(call.func, verdict) if counted else verdict))
                calls.append({"func": call.func, "args": list(case.args), "kwargs": dict(case.kwargs),
                              **({"count_calls": True} if counted else {})})
        plan.append((spec, items))
    uses_keras = any(c.get("keras") for c in calls)
    if uses_keras:  # TensorFlow must load in the sandbox: more memory and time, nothing masked
        limits = Limits(wall_seconds=max(limits.wall_seconds, 600), cpu_seconds=max(limits.cpu_seconds, 600),
                        memory_bytes=max(limits.memory_bytes, 12 * 1024 ** 3), processes=limits.processes,
                        file_bytes=limits.file_bytes, output_bytes=limits.output_bytes)
        call_seconds = max(call_seconds, 120)

    run: SandboxResult | None = None
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        if calls:
            run = _sandbox_run(cells, calls, scratch, limits, hide or [], call_seconds, mask=not uses_keras)
        results: list[TestResult] = []
        for spec in specs:
            if not spec.engine:
                results.append(TestResult(spec.grade_id, "kernel", 0.0, spec.points,
                                          "graded by nbgrader in the (sandboxed) kernel"))
                continue
            items = next(i for s, i in plan if s is spec)
            # the same report as the test cell's: how many cases are wrong, one of them, the likely cause
            report = checks.SuiteReport(spec.calls[0].func, spec.calls[0].suite, len(items))
            status, reason, causes = "ok", "", []
            for index, case, verdict in items:
                path = scratch / f"result_{index}.json"
                if not path.exists():
                    if run is not None and run.timed_out:
                        status, reason = "timeout", "the notebook's code ran out of time before this test"
                    else:
                        status = "crash"
                        reason = (f"the notebook's process ended before this test "
                                  f"(exit {run.returncode if run else '?'}"
                                  f"{', ' + run.signal if run and run.signal else ''})")
                    break
                try:
                    raw = protocol.load(path)
                    if not isinstance(raw, dict):
                        raise protocol.ProtocolError("result is not a record")
                except protocol.ProtocolError as exc:
                    status, reason = "invalid", f"malformed result ({exc})"
                    break
                call_status, result, detail = _judge(verdict, case, raw)
                if call_status in ("timeout", "invalid"):
                    status, reason = call_status, f"{case.call_text(calls[index]['func'])}: {detail}"
                    break
                if result is not None and not result.passed:
                    if raw.get("status") in ("missing", "raised"):
                        cell_errors = [e for e in _cell_errors(scratch) if "ImportError" in e
                                       or raw.get("status") == "missing"]
                        if cell_errors:
                            result = CheckResult(False, None, None, result.message + " (errors in your code cells: "
                                                 + "; ".join(cell_errors[:2]) + ")")
                    report.failures.append((case.call_text(calls[index]["func"]), result))
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
            if notes and status == "ok":
                status = "integrity"
            results.append(TestResult(spec.grade_id, status, score, spec.points, reason, notes, causes))
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
