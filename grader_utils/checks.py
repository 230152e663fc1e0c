"""The checks that the notebooks' test cells call (press Validate, or run the cell).

``check_<exercise>(func, suite, seed)`` calls the student's function on every case of a suite,
judges each result with the exercise's verdict (Keras' answer, the tolerant comparator and the
likely causes: :mod:`grader_utils.judge`), prints one line when all is right and raises
``CheckFailed`` (an ``AssertionError`` that IPython shows as the plain message, without a traceback)
otherwise. They return ``None`` on purpose: nbgrader would read a number returned by a test cell as
a partial score. :func:`run_suite` returns the structured report.

There is one ``check_<exercise>`` per array exercise of the registry
(:data:`grader_utils.judge.registry.ARRAY_EXERCISES`); the Keras-model checks are in
:mod:`grader_utils.model_checks`. Under grading, the trusted engine calls the student's functions
itself and judges with the same verdicts (:func:`graded_by_engine`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from typing import Any

from .i18n import tr
from .judge.case import Case
from .judge.cases import suite_cases
from .judge.compare import CheckFailed, CheckResult
from .judge.hints import ARITHMETIC_MESSAGE
from .judge.registry import ARRAY_EXERCISES, EXERCISES, Exercise
from .judge.suite import SuiteReport
from .judge.timing import slow_message, time_limit
from .judge.verdicts import Verdict
from .sandbox.numpy_only import NumpyOnlyReport, call_arithmetic, call_numpy_only

__all__ = ["SuiteReport", "graded_by_engine", "run_suite", *ARRAY_EXERCISES]


class _Refused(Exception):
    """The call broke a rule of the exercise (not NumPy only, not vectorized)."""


def _call(
    func: Callable[..., Any],
    name: str,
    case: Case,
    numpy_only: bool = False,
    max_seconds: float | None = None,
    arithmetic: bool = False,
) -> tuple[bool, Any]:
    """Call the student's function on copies of the case's arguments.

    Returns (True, result) or (False, text of the exception). NotImplementedError
    propagates with a message saying what to do; a broken rule raises ``_Refused``: code of Keras & co.
    run by a NumPy-only answer, or by an arithmetic one (which may not use the grader's modules
    either, as under grading: :data:`grader_utils.judge.hints.ARITHMETIC_MESSAGE`)."""
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    start = time.perf_counter()
    try:
        if arithmetic:
            result, report = call_arithmetic(func, *args, **kwargs)
            if not report.clean:
                raise _Refused(arithmetic_refusal(name, report))
            return True, result
        if not numpy_only:
            return True, func(*args, **kwargs)
        result, report = call_numpy_only(func, *args, **kwargs)
        seconds = time.perf_counter() - start
    except NotImplementedError:
        raise NotImplementedError(
            tr("{name} is not implemented yet: replace `raise NotImplementedError()` with your code.", name=name)
        ) from None
    except _Refused:
        raise
    except Exception as exc:  # the student's code failed: that is a wrong answer, not a grader crash
        failed = getattr(exc, "numpy_only_report", None)
        if failed is not None and not failed.clean:
            raise _Refused(arithmetic_refusal(name, failed) if arithmetic else failed.message(name)) from None
        return False, f"{type(exc).__name__}: {exc}"
    if not report.clean:
        raise _Refused(report.message(name))
    if max_seconds is not None and seconds > max_seconds:
        raise _Refused(slow_message(name, seconds, case, max_seconds))
    return True, result


def arithmetic_refusal(name: str, report: NumpyOnlyReport) -> str:
    """What an arithmetic answer that ran Keras' or the grader's code reads: the refusal it gets under
    grading (:data:`~grader_utils.judge.hints.ARITHMETIC_MESSAGE`) and what ran."""
    ran = ", ".join(tr("{package} (e.g. {function})", package=p, function=f) for p, f in sorted(report.used.items()))
    if report.tampered:
        ran = "sys.setprofile"
    return tr(
        "{name}: {refusal} What happened: {error}",
        name=name,
        refusal=tr(ARITHMETIC_MESSAGE),
        error=tr("it ran code from {packages}", packages=ran),
    )


def run_suite(
    func: Callable[..., Any],
    name: str,
    cases: list[Case],
    verdict: Verdict,
    suite: str = "",
    numpy_only: bool = False,
    max_seconds: Callable[[Case], float] | None = None,
    arithmetic: bool = False,
) -> SuiteReport:
    """Call ``func`` on each case and judge each result with ``verdict``.

    numpy_only: the function must not run TensorFlow, SciPy & co. (see :mod:`grader_utils.sandbox.numpy_only`);
    max_seconds: a time limit per case (a check for vectorized code, see :func:`grader_utils.judge.timing.time_limit`);
    arithmetic: neither Keras & co. nor the grader's own modules may run (they are not there under grading).
    A broken rule fails the whole suite with a message saying which rule."""
    if not callable(func):
        raise CheckFailed(tr("{name} should be a function, but it is {type}.", name=name, type=type(func).__name__))
    report = SuiteReport(name, suite, len(cases))
    for case in cases:
        call = case.call_text(name)
        try:
            ok, got = _call(
                func, name, case, numpy_only, None if max_seconds is None else max_seconds(case), arithmetic
            )
        except _Refused as refusal:
            report.failures = [(call, CheckResult(False, None, None, str(refusal), {"problem": "rule"}))]
            report.rule_broken = True
            return report
        if not ok:
            report.failures.append((call, CheckResult(False, None, got, tr("It raised {error}", error=got))))
            continue
        result = verdict(case, got)
        if not result.passed:
            report.failures.append((call, result))
    return report


def graded_by_engine(check: str) -> bool:
    """True while ``cnn-course grade`` autogrades (``GRADER_ENGINE=1`` in the kernel) and the trusted
    engine judges this check itself: the kernel need not run it (its verdict would be replaced
    anyway), which saves computing Keras' answers and training models in every kernel."""
    return os.environ.get("GRADER_ENGINE") == "1" and check in EXERCISES


def _make_check(ex: Exercise) -> Callable[..., None]:
    """The test cells' ``check_<function>`` of an array exercise of the registry."""

    def check(func: Callable[..., Any], suite: str = "basic", seed: int = 0, n: int | None = None) -> None:
        if graded_by_engine(ex.check):
            print(tr("{name} ({suite}): graded by the course's sandboxed grader", name=ex.function, suite=suite))
            return None
        assert ex.verdict is not None
        report = run_suite(
            func,
            ex.function,
            suite_cases(ex.family, suite, seed=seed, n=n),
            ex.verdict,
            suite,
            ex.numpy_only,
            time_limit if suite in ex.timed else None,
            ex.arithmetic,
        )
        if not report.passed:
            raise CheckFailed(report.message())
        print(report.message())
        return None

    check.__name__ = check.__qualname__ = ex.check
    check.__doc__ = ex.doc
    check.__module__ = __name__
    return check


for _exercise in ARRAY_EXERCISES.values():
    globals()[_exercise.check] = _make_check(_exercise)
del _exercise


def __getattr__(name: str) -> Any:  # for type checkers: the checks above are made from the registry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
