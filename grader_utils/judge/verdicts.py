"""Verdicts of the array exercises: ``verdict_<exercise>(case, got) -> CheckResult``.

Each is a plain function of plain data (a :class:`~grader_utils.judge.case.Case` and the value the
student's function returned), so it runs in the grading process, never next to student code: the
expected value comes from Keras (:mod:`.truth`), the comparison from :mod:`.compare` and, for a wrong
answer, the keys of the likely causes from :mod:`.feedback` (``details["hints"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..i18n import tr
from . import shape_feedback, stack_feedback, truth, value_feedback
from .case import Case
from .compare import CONV_ATOL, CONV_RTOL, CheckResult, compare_arrays, compare_int, compare_int_tuple
from .shapes import as_pair

#: a verdict on one call: (the case, what the student's function returned) -> result
Verdict = Callable[[Case, Any], CheckResult]


def _with_hints(result: CheckResult, keys: list[str]) -> CheckResult:
    """Attach the keys of :data:`hints.HINTS` that explain a failed result."""
    if result.passed or not keys:
        return result
    return CheckResult(False, result.expected, result.got, result.message, {**result.details, "hints": keys})


def _safe(hints: Callable[[], list[str]]) -> list[str]:
    """A diagnosis must never turn a wrong answer into a grader crash."""
    try:
        return hints()
    except Exception:
        return []


def verdict_conv2d_output_shape(case: Case, got: Any) -> CheckResult:
    expected = truth.conv2d_output_shape(*case.args, **case.kwargs)
    result = compare_int_tuple(got, expected, what=tr("The returned shape"))
    if result.passed:
        return result
    return _with_hints(result, _safe(lambda: shape_feedback.conv_shape_hints(case.args, case.kwargs, got, expected)))


def verdict_pool2d_output_shape(case: Case, got: Any) -> CheckResult:
    expected = truth.pool2d_output_shape(*case.args, **case.kwargs)
    result = compare_int_tuple(got, expected, what=tr("The returned shape"))
    if result.passed:
        return result
    return _with_hints(result, _safe(lambda: shape_feedback.pool_shape_hints(case.args, case.kwargs, got, expected)))


def _verdict_pool(kind: str, case: Case, got: Any) -> CheckResult:
    expected = truth.pool2d(case.args[0], kind, *case.args[1:], **case.kwargs)
    result = compare_arrays(got, expected, what=tr("The returned array"))
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(
        result, _safe(lambda: value_feedback.pool_value_hints(kind, case.args, case.kwargs, got, expected))
    )


def verdict_max_pool2d(case: Case, got: Any) -> CheckResult:
    return _verdict_pool("max", case, got)


def verdict_average_pool2d(case: Case, got: Any) -> CheckResult:
    return _verdict_pool("average", case, got)


def verdict_dense_param_count(case: Case, got: Any) -> CheckResult:
    expected = truth.dense_param_count(*case.args)
    result = compare_int(got, expected, what=tr("The parameter count"))
    if result.passed or result.details.get("problem") == "type":
        return result
    input_shape, units = case.args
    keys = ["params_no_bias"] if int(got) == expected - int(units) else []
    return _with_hints(result, keys)


def verdict_conv2d_param_count(case: Case, got: Any) -> CheckResult:
    expected = truth.conv2d_param_count(*case.args)
    result = compare_int(got, expected, what=tr("The parameter count"))
    if result.passed or result.details.get("problem") == "type":
        return result
    c_in, filters, kernel_size = case.args
    kh, kw = as_pair(kernel_size)
    keys = []
    if int(got) == expected - int(filters):
        keys.append("params_no_bias")
    elif int(got) in (kh * kw * filters + filters, kh * kw * filters):
        keys.append("conv_params_no_channels")
    return _with_hints(result, keys)


def verdict_correlate2d(case: Case, got: Any) -> CheckResult:
    expected = truth.correlate2d(*case.args)
    result = compare_arrays(got, expected, what=tr("The returned array"), rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(
        result, _safe(lambda: value_feedback.correlate_hints(case.args, got, expected, CONV_RTOL, CONV_ATOL))
    )


def verdict_conv2d(case: Case, got: Any) -> CheckResult:
    expected = truth.conv2d(*case.args, **case.kwargs)
    result = compare_arrays(got, expected, what=tr("The returned array"), rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(
        result,
        _safe(lambda: value_feedback.conv_value_hints(case.args, case.kwargs, got, expected, CONV_RTOL, CONV_ATOL)),
    )


def verdict_receptive_field(case: Case, got: Any) -> CheckResult:
    (layers,) = case.args
    expected = truth.receptive_field(layers)
    result = compare_int_tuple(got, expected, what=tr("The returned (height, width)"))
    if result.passed or result.details.get("problem") in ("type", "length"):
        return result
    return _with_hints(result, _safe(lambda: stack_feedback.receptive_field_hints(layers, got, expected)))


def _list_problem(got: Any, n: int, what: str) -> str | None:
    if not isinstance(got, list):
        return tr(
            "{what} should be a list with one entry per layer, but it is a {type}.", what=what, type=type(got).__name__
        )
    if len(got) != n:
        return tr(
            "{what} should have one entry per layer ({layers}), but it has {count}.",
            what=what,
            layers=n,
            count=len(got),
        )
    return None


def verdict_sequential_output_shapes(case: Case, got: Any) -> CheckResult:
    input_shape, layers = case.args
    shapes, _ = truth.sequential_summary(input_shape, layers)
    problem = _list_problem(got, len(shapes), tr("The returned list of shapes"))
    if problem:
        return CheckResult(False, shapes, repr(got)[:200], problem)
    for i, (g, e) in enumerate(zip(got, shapes)):
        result = compare_int_tuple(
            g, e, what=tr("The shape of layer {number} ({kind})", number=i + 1, kind=layers[i][0])
        )
        if not result.passed:
            if result.details.get("problem") == "type":
                return result
            got = [tuple(s) if isinstance(s, (tuple, list)) else s for s in got]
            hint = stack_feedback.diagnose_sequential_shapes(input_shape, layers, got, shapes)
            return CheckResult(False, shapes, got, hint or result.message)
    return CheckResult(True, shapes, got)


def verdict_sequential_param_counts(case: Case, got: Any) -> CheckResult:
    input_shape, layers = case.args
    shapes, params = truth.sequential_summary(input_shape, layers)
    problem = _list_problem(got, len(params), tr("The returned list of parameter counts"))
    if problem:
        return CheckResult(False, params, repr(got)[:200], problem)
    if not all(isinstance(g, (int, np.integer)) and not isinstance(g, bool) for g in got):
        return CheckResult(False, params, repr(got)[:200], tr("Every parameter count should be an int."))
    got = [int(g) for g in got]
    if got != params:
        hint = stack_feedback.diagnose_sequential_params(input_shape, layers, got, params, shapes)
        return CheckResult(
            False, params, got, hint or tr("The counts are {got}; Keras gives {expected}.", got=got, expected=params)
        )
    return CheckResult(True, params, got)
