"""Verdicts of assignment 04 (backpropagation): ``verdict_<function>(case, got) -> CheckResult``.

As in :mod:`.verdicts`: plain functions of plain data, run in the grading process; the expected
gradients come from :mod:`.grad_truth` (TensorFlow's ``GradientTape`` through the real layers), the
comparison from the one comparator (:mod:`.compare`) and the likely causes of a wrong answer from
:mod:`.grad_feedback` (``details["hints"]``).

``conv2d_backward`` returns a tuple ``(dx, dkernel, dbias)``: the verdict checks that it is a tuple of
three, then each array as :func:`.compare.compare_arrays` does (type, shape, dtype, then values),
and names every part that is wrong. An answer whose only fault is a dtype (every part has the right
shape and, cast, the right values) is reported as ``problem="dtype"`` with ``values_ok``, as a single
array would be, so the engine's dtype share applies to it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..i18n import tr
from . import grad_feedback, grad_truth
from .case import Case
from .compare import ATOL, CONV_ATOL, CONV_RTOL, RTOL, CheckResult, compare_arrays
from .verdicts import _safe, _with_hints

__all__ = [
    "CONV_PARTS",
    "compare_gradients",
    "verdict_conv2d_backward",
    "verdict_max_pool2d_backward",
    "verdict_average_pool2d_backward",
]

#: the parts of ``conv2d_backward``'s answer, in the order it returns them
CONV_PARTS = ("dx", "dkernel", "dbias")


def _describe(value: Any) -> str:
    text = repr(value)
    return tr("a {type} ({value})", type=type(value).__name__, value=text if len(text) < 60 else text[:57] + "...")


def _only_dtype(result: CheckResult) -> bool:
    return result.details.get("problem") == "dtype" and bool(result.details.get("values_ok"))


def compare_gradients(
    got: Any, expected: tuple[np.ndarray, ...], names: tuple[str, ...], *, rtol: float, atol: float
) -> CheckResult:
    """Compare a tuple of arrays (e.g. ``(dx, dkernel, dbias)``) with the expected tuple, part by part.

    details: ``problem`` ("type", "length", or the first wrong part's own problem; "dtype" with
    ``values_ok`` only when every wrong part is wrong by its dtype alone), ``parts`` (the names of
    the wrong parts) and ``part`` (the one whose message comes first)."""
    shapes = tuple(e.shape for e in expected)
    parts = ", ".join(names)
    if type(got) is not tuple:
        message = (
            tr(
                "The result should be a tuple ({parts}), but it is {got}. Return a tuple ({parts}), e.g. "
                "`return {parts}`.",
                parts=parts,
                got=_describe(got),
            )
            if isinstance(got, list)
            else tr("The result should be a tuple ({parts}), but it is {got}.", parts=parts, got=_describe(got))
        )
        return CheckResult(False, shapes, _describe(got), message, {"problem": "type"})
    if len(got) != len(names):
        return CheckResult(
            False,
            shapes,
            f"a tuple of {len(got)}",
            tr(
                "The result should be a tuple ({parts}) of {arrays} arrays, but it has {count} entries.",
                parts=parts,
                arrays=len(names),
                count=len(got),
            ),
            {"problem": "length"},
        )
    results = {n: compare_arrays(g, e, what=n, rtol=rtol, atol=atol) for n, g, e in zip(names, got, expected)}
    wrong = [n for n in names if not results[n].passed]
    if not wrong:
        return CheckResult(True, shapes, shapes)
    right = [n for n in names if results[n].passed]
    first = next((n for n in wrong if not _only_dtype(results[n])), wrong[0])
    details = dict(results[first].details)
    details.update(parts=wrong, part=first)
    if all(_only_dtype(results[n]) for n in wrong):
        details.update(problem="dtype", values_ok=True)
    lines = [results[n].message for n in [first] + [n for n in wrong if n != first]]
    if right:
        lines.append(
            tr("{part} is right.", part=right[0])
            if len(right) == 1
            else tr("{parts} are right.", parts=tr(" and ").join(right))
        )
    return CheckResult(False, results[first].expected, results[first].got, "\n".join(lines), details)


def verdict_conv2d_backward(case: Case, got: Any) -> CheckResult:
    """``conv2d_backward(dout, x, kernel, strides=, padding=) -> (dx, dkernel, dbias)``."""
    expected = grad_truth.conv2d_backward(*case.args, **case.kwargs)
    result = compare_gradients(got, expected, CONV_PARTS, rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "length", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: grad_feedback.conv_backward_hints(case.args, case.kwargs, got, expected)))


def _verdict_pool(kind: str, case: Case, got: Any) -> CheckResult:
    expected = grad_truth.pool2d_backward(case.args[0], case.args[1], kind, *case.args[2:], **case.kwargs)
    result = compare_arrays(got, expected, what="dx", rtol=RTOL, atol=ATOL)
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(
        result, _safe(lambda: grad_feedback.pool_backward_hints(kind, case.args, case.kwargs, got, expected))
    )


def verdict_max_pool2d_backward(case: Case, got: Any) -> CheckResult:
    """``max_pool2d_backward(dout, x, pool_size, strides=, padding=) -> dx``."""
    return _verdict_pool("max", case, got)


def verdict_average_pool2d_backward(case: Case, got: Any) -> CheckResult:
    """``average_pool2d_backward(dout, x, pool_size, strides=, padding=) -> dx``."""
    return _verdict_pool("average", case, got)
