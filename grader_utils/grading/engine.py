"""The trusted grading engine: verdicts computed outside the student's process.

For one submitted notebook:

1. Read it (unreadable JSON: every test is ``invalid``).
2. Take the *instructor's* test cells from ``source/`` (never the submission's) and plan
   the calls of the checks they run (:mod:`plan`) (``check_max_pool2d(max_pool2d, "random", seed=2024)`` ...). Calls
   written inside a hidden-test region take their inputs from the course secret (see
   :func:`plan.hidden_seed`), never from the seed written in the cell.
3. Run the student's code cells (not their test cells) in the sandbox, where TensorFlow,
   Keras, SciPy & co. are masked, and call the student's functions on inputs made here, one
   call at a time: each input is written only just before its call, and each call is timed
   from here (:mod:`graded_run`, :mod:`probes`); results come back as plain data (:mod:`protocol`).
   For the NumPy-only notebooks the sandbox also gets ``GRADER_NUMPY_ONLY=1``: the harness then
   locks itself before the student's cells run (:mod:`native_lock`: NumPy and the standard
   library's compiled modules are loaded, then a seccomp filter refuses new executable memory
   and ``execve``), so no other native code (Pillow, a ``.so`` shipped in the notebook, another
   Python's packages, another program) can do the work. A lock that cannot be made exits the
   harness before any student code runs: a crash, 0 points.
4. Judge every result here with the verdicts of the exercise registry
   (:mod:`grader_utils.judge.registry`; TensorFlow ground truth computed in this process).
   Nothing the sandbox says about itself counts: only the values it returns and the times
   measured from outside.
5. Record per test cell a status (ok, wrong, timeout, crash, invalid, integrity), a
   reason and a score; a failure of the grading process itself raises :class:`plan.GradingError`
   (the caller then records the whole submission as failed, with 0 points).

Checks of Keras models (assignment 03) go the same way: the model comes back as its Keras
JSON and compile settings and is rebuilt and judged here (:mod:`grader_utils.judge.model_verdicts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat

from ..i18n import localize, tr, using_language
from ..judge.compare import DTYPE_SHARE, DTYPE_SHARE_TEXT, CheckResult
from ..judge.hints import ARITHMETIC_MESSAGE
from ..judge.registry import EXERCISES
from ..judge.suite import SuiteReport
from ..sandbox import native_lock, protocol
from ..sandbox.bwrap import Limits
from .context import GradingContext
from .plan import CallLog, GradingError, _Item, _too_slow
from .records import Status, TestResult
from .specs import TestSpec, read_specs, restore_test_cells

__all__ = ["grade_notebook", "ARITHMETIC_MESSAGE"]

#: an error of a call that tried Keras, TensorFlow or the grader's own modules (the NumPy-only lock's
#: refusal, a failed import, a name the refused import left undefined)
#: the errors a call gets when it reaches for Keras, TensorFlow or the grader's own modules under grading:
#: the name the setup cell's refused import left undefined, the native lock's refusal, a masked module
_LIBRARY_ERROR = re.compile(
    r"NameError: name '(keras|layers|tf|tensorflow|truth|checks)' is not defined|"
    + re.escape(native_lock.MESSAGE)
    + "|"
    + r"grader_utils\.\w+ is not available while this notebook is graded"
)


def reached_for_a_library(message: str) -> bool:
    """Whether an error message (from the sandbox: only ever used to choose which reason to give)
    says the call reached for Keras, TensorFlow or the grader's modules; an unrelated error that
    merely mentions "layers" does not count."""
    return bool(_LIBRARY_ERROR.search(message))


def _judge(item: _Item, raw: dict, seconds: float) -> tuple[Status, CheckResult | None, str]:
    """(status, verdict, detail) for one case as the sandbox reported it: ``ok``/``wrong`` with the
    verdict, or ``timeout``/``invalid`` with a detail. A verdict that raises is the grader's own
    failure: :class:`GradingError`."""
    status = raw.get("status")
    if status == "returned":
        value = raw.get("value")
        if isinstance(value, protocol.Unsupported):
            return (
                Status.WRONG,
                CheckResult(
                    False,
                    None,
                    None,
                    tr("It returned {what}, which is not plain data (arrays, tuples, ints).", what=value.description),
                ),
                "",
            )
        try:
            result = (
                item.verdict(item.case, value, seconds, item.time_limit())
                if item.timed
                else item.verdict(item.case, value)
            )
        except Exception as exc:  # noqa: BLE001
            raise GradingError(
                f"the verdict on {item.case.call_text('f')} raised {type(exc).__name__}: {str(exc)[:200]}"
            ) from exc
        if not isinstance(result, CheckResult):
            raise GradingError(f"the verdict returned {type(result).__name__}, not a CheckResult")
        return (Status.OK if result.passed else Status.WRONG), result, ""
    if status == "timeout":
        return Status.TIMEOUT, None, str(raw.get("detail", "timed out"))
    if status in ("missing", "not_implemented", "raised"):
        return Status.WRONG, CheckResult(False, None, None, str(raw.get("detail", status))), ""
    return Status.INVALID, None, tr("unexpected result {status}", status=str(status)[:50])


#: the sandbox's limits for one notebook graded by :func:`grade_notebook` (when not given)
NOTEBOOK_LIMITS = Limits(wall_seconds=300)


def grade_notebook(
    submission: Path,
    source_nb: Path,
    *,
    release_nb: Path | None = None,
    hide: list[Path] | None = None,
    limits: Limits = NOTEBOOK_LIMITS,
    call_seconds: int = 20,
    only: set[str] | None = None,
    secret: bytes | None = None,
    context: str = "",
    language: str | None = None,
    student: str = "",
) -> list[TestResult]:
    """Grade one submitted notebook against the instructor's notebook ``source_nb``, the way
    autograding does (:mod:`graded_run`: one sandboxed kernel, the engine's calls at each test cell).

    release_nb: the student version, to skip its unchanged ``demo``-tagged cells;
    hide: folders the student's code must not see (the course directory);
    limits: ``wall_seconds`` is the time limit of one cell;
    call_seconds: time limit of one call of a student's function;
    only: grade just these test cells (grade_ids);
    secret: the course secret from which hidden suites take their inputs (None: the seeds written in
    the test cells, as when the instructor runs the notebook); context: where the notebook belongs
    (``assignment/notebook``), mixed into those inputs with ``student`` and every file of the submission's
    folder; language: of the verdicts and reasons (None: as it is)."""
    from traitlets.config import Config

    from .graded_run import SandboxedExecute

    specs = [s for s in read_specs(source_nb) if only is None or s.grade_id in only]
    try:
        nb = nbformat.reads(Path(submission).read_text(errors="replace"), as_version=4)
        nb = restore_test_cells(nb, source_nb)
    except Exception as exc:  # invalid JSON, wrong schema, unreadable file
        with using_language(language):
            reason = tr("the notebook could not be read ({error})", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return [TestResult(s.grade_id, Status.INVALID, 0.0, s.points, reason) for s in specs]
    config = Config()
    if hide:
        config.SandboxedKernelManager.hide = [str(h) for h in hide]
    ctx = GradingContext(
        source_nb=source_nb,
        release_nb=release_nb,
        secret=secret,
        context=context,
        call_seconds=call_seconds,
        only=only,
        submission_folder=Path(submission).parent,
        language=language,
        student=student,
    )
    ex = SandboxedExecute(config=config, grading=ctx, timeout=int(limits.wall_seconds), startup_timeout=120)
    ex.preprocess(nb, {"metadata": {"path": str(Path(submission).parent)}})
    return ctx.results


def _judge_timed(
    item: _Item, made: list[int], raws: list[dict], log: CallLog
) -> tuple[dict, tuple[Status, CheckResult | None, str]]:
    """A timed case called more than once, each call on its own input (:attr:`_Item.cases`): a wrong answer to
    any of them is the verdict; else the fastest call judges the time rule. Returns (its raw result, verdict)."""
    judged = []
    for i, raw in zip(made, raws, strict=True):
        one = replace(item, case=item.case_of(i), cases=[])
        judged.append((log.elapsed[i], raw, _judge(one, raw, log.elapsed[i])))
    for _seconds, raw, verdict in judged:
        status, result, _detail = verdict
        if status != Status.OK and not (result is not None and result.details.get("problem") == "rule"):
            return raw, verdict
    _seconds, raw, verdict = min(judged, key=lambda j: (j[2][0] != Status.OK, j[0]))
    return raw, verdict


def _result(
    spec: TestSpec,
    items: list[_Item],
    calls: list[dict],
    read: Callable[[int], Any],
    log: CallLog,
    integrity: list[str],
    cell_errors: list[str] = (),  # type: ignore[assignment]
    def_errors: dict[str, str] | None = None,
) -> TestResult:
    """The verdict on one test cell from the results of its calls (``read(i)``: call i's result as
    the sandbox wrote it). A call that was never answered is a crash: the kernel stopped first.
    ``cell_errors``: errors the student's cells raised so far (named when a function is missing or
    raised: e.g. the import the NumPy-only lock refused); ``def_errors``: function name -> the error of
    the cell that defines it (a function that is missing because its own cell stopped)."""
    # the same report as the test cell's: how many cases are wrong, one of them, the likely cause
    report = SuiteReport(spec.calls[0].func, spec.calls[0].suite, len(items))
    status, reason, causes = Status.OK, "", []
    for item in items:
        name = item.case.call_text(calls[item.indexes[0]]["func"])
        made = [i for i in item.indexes if i not in log.skipped] or item.indexes[:1]
        if item.timed and any(i in log.timeouts for i in made):  # slower than its alarm: the rule is broken
            report.failures.append((name, _too_slow(calls[item.indexes[0]]["func"], item, log, made)))
            continue
        if any(i in log.timeouts for i in made):
            status, reason = (
                Status.TIMEOUT,
                tr("{call} did not return within {seconds:g} s", call=name, seconds=log.call_seconds),
            )
            break
        if not all(i in log.elapsed for i in made):
            status, reason = Status.CRASH, tr("the notebook's kernel stopped before {call} returned", call=name)
            break
        try:
            raws = [read(i) for i in made]
            if not all(isinstance(r, dict) for r in raws):
                raise protocol.ProtocolError("a result is not a record")
        except Exception as exc:  # noqa: BLE001  (whatever the files hold, it is the sandbox's fault)
            status, reason = (
                Status.INVALID,
                tr("malformed result ({error})", error=f"{type(exc).__name__}: {str(exc)[:200]}"),
            )
            break
        if item.timed and len(made) > 1:  # each call on its own input: every answer must be right, the faster counts
            raw, (call_status, result, detail) = _judge_timed(item, made, raws, log)
        else:
            seconds = min(log.elapsed[i] for i in made)
            raw = raws[0]
            call_status, result, detail = _judge(item, raw, seconds)
        if call_status == Status.TIMEOUT and item.timed:
            report.failures.append((name, _too_slow(calls[item.indexes[0]]["func"], item, log, made)))
            continue
        if call_status in (Status.TIMEOUT, Status.INVALID):
            status, reason = call_status, f"{name}: {detail}"
            break
        if result is not None and not result.passed:
            func = calls[item.indexes[0]]["func"]
            if raw.get("status") == "missing" and def_errors and func in def_errors:
                result = CheckResult(
                    False,
                    None,
                    None,
                    tr(
                        "{name} is not defined: the cell that defines it stopped with {error}",
                        name=func,
                        error=def_errors[func],
                    ),
                )
            elif raw.get("status") in ("missing", "raised"):
                errors = [
                    e
                    for e in reversed(cell_errors)  # the latest first: nearest to the function
                    if "ImportError" in e or "ModuleNotFoundError" in e or raw.get("status") == "missing"
                ]
                if errors:
                    result = CheckResult(
                        False,
                        None,
                        None,
                        tr(
                            "{message} (errors in your code cells: {errors})",
                            message=result.message,
                            errors="; ".join(errors[:2]),
                        ),
                        {**result.details, "own_message": result.message},
                    )
            report.failures.append((name, result))
    library = _library_error(spec, report)
    if status == Status.OK and library:
        status = Status.WRONG
        reason = tr(
            "{name}: {refusal} What happened: {error}", name=report.name, refusal=tr(ARITHMETIC_MESSAGE), error=library
        )
    elif status == Status.OK and not report.passed and report.only_dtype:
        status = Status.DTYPE
        reason = dtype_reason(report, spec.points)
    elif status == Status.OK and not report.passed:
        status = Status.WRONG
        if any(c.model for c in spec.calls):  # one call per check: its own message says it all
            reason = " ".join(result.message for _, result in report.failures)
        else:
            reason = report.message()
            key, _ = report.likely_cause()
            causes = [key] if key else []
    score = spec.points if status == Status.OK else spec.points * DTYPE_SHARE if status == Status.DTYPE else 0.0
    notes = [n for n in integrity if spec.grade_id in n]
    if notes and status == Status.OK:  # the functions were judged on their own: the points stand, the note tells
        status = Status.INTEGRITY
    # the sandbox writes English: its known sentences in the reason are put in the course's language here
    return TestResult(spec.grade_id, status, score, spec.points, localize(reason), notes, causes)


def _library_error(spec: TestSpec, report: SuiteReport) -> str:
    """For an arithmetic exercise (``Exercise.arithmetic``): the first error of a call that reached for
    Keras, TensorFlow or the grader's own modules ('' when none did)."""
    if not spec.calls or not all(EXERCISES[c.check].arithmetic for c in spec.calls):
        return ""
    for _, result in report.failures:
        own = result.details.get("own_message", result.message)  # not the other cells' errors
        if result.expected is None and result.got is None and reached_for_a_library(own):
            return own[:400]
    return ""


def dtype_reason(report: SuiteReport, points: float) -> str:
    """The reason of a ``dtype`` verdict: what is wrong, how to fix it, and the points kept."""
    call, result = report.failures[0]
    return tr(
        "right values, wrong dtype: {name} returns the right values but not Keras' dtype in {wrong} of {total} "
        "{suite} cases. Wrong case: {call}. {message} This test keeps {share} of its points ({kept:g} of "
        "{points:g}).",
        name=report.name,
        wrong=len(report.failures),
        total=report.total,
        suite=report.suite,
        call=call,
        message=result.message,
        share=DTYPE_SHARE_TEXT,
        kept=points * DTYPE_SHARE,
        points=points,
    )
