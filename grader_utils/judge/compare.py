"""The course's one comparator: a student's answer against the expected one.

Order of checks, each stopping at the first problem:
    arrays:  type is ``np.ndarray`` -> shape -> dtype -> finite -> values
             (a wrong dtype also says whether the values are right after casting to the expected
             dtype: ``details["values_ok"]``; the grader then keeps :data:`DTYPE_SHARE` of the points)
    shapes/counts: type (tuple / list / int) -> length -> each entry an int -> values

Tolerance (float arrays), elementwise, as ``np.isclose`` writes it::

    |got - expected| <= ATOL + RTOL * |expected|      with RTOL = 1e-5, ATOL = 1e-6

Keras computes in float32 (about 7 significant digits). A correct NumPy answer
that sums in another order differs from TensorFlow by a few float32 ulps
(relative 1e-7..1e-6), far inside RTOL; a real mistake moves values by far more.

Convolutions sum up to a few hundred products, and TensorFlow's oneDNN kernels
sum in their own order, so their outputs use a looser tolerance::

    CONV_RTOL = CONV_ATOL = 1e-4

(measured: a float64 NumPy convolution differs from Keras by at most 1.5e-5 on
values of size 1..40 over 200 random cases; a real mistake moves values by ~1.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..i18n import tr
from .shapes import is_int

__all__ = [
    "DTYPE_SHARE",
    "DTYPE_SHARE_TEXT",
    "RTOL",
    "ATOL",
    "CONV_RTOL",
    "CONV_ATOL",
    "CheckFailed",
    "CheckResult",
    "compare_arrays",
    "compare_int_tuple",
    "compare_int",
    "compare_float",
]

#: the share of a test's points that the grader keeps for an answer whose only fault is its dtype:
#: every case has the right shape and, cast to Keras' dtype, the right values (status ``dtype`` of
#: :mod:`engine`). A dtype slip is not a wrong algorithm; the visible check still fails and says how
#: to fix it.
DTYPE_SHARE = 0.75
DTYPE_SHARE_TEXT = str(Fraction(DTYPE_SHARE))  # "3/4"

RTOL = 1e-5
ATOL = 1e-6
CONV_RTOL = 1e-4
CONV_ATOL = 1e-4


class CheckFailed(AssertionError):
    """A failed check, as the student reads it in the notebook: the message alone, no traceback.

    IPython shows an exception that has ``_render_traceback_`` with the lines that method returns
    (instead of the frames of the course's check functions), so the output is one plain, short
    message; the exception's name (``CheckFailed``) still marks the test cell as failed for
    nbgrader. It is an ``AssertionError``: ``pytest.raises(AssertionError)`` and ``except
    AssertionError`` still catch it. Outside IPython it prints like any exception."""

    def _render_traceback_(self) -> list[str]:
        red, reset = "\x1b[0;31m", "\x1b[0m"
        lines = str(self).splitlines() or [""]
        return [f"{red}{tr('Check failed:')}{reset} {lines[0]}", *lines[1:]]


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer.

    passed:   whether the answer is right
    expected: what Keras gives (plain data)
    got:      what the student's code returned (plain data or a short description)
    message:  one or two sentences for the student ('' when passed)
    """

    passed: bool
    expected: Any = None
    got: Any = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def raise_if_failed(self) -> None:
        """Raise ``CheckFailed(message)`` (an ``AssertionError``) when the check failed."""
        if not self.passed:
            raise CheckFailed(self.message)


def _fail(expected: Any, got: Any, message: str, **details: Any) -> CheckResult:
    return CheckResult(False, expected, got, message, dict(details))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return tr("an array of shape {shape} and dtype {dtype}", shape=value.shape, dtype=value.dtype)
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 80 else text[:77] + '...'}"


def _number(value: Any) -> str:
    """A NumPy scalar as a student would write it: 4.145394, not np.float32(4.145394)."""
    return f"{value.item():.7g}" if isinstance(value, np.generic) and value.dtype.kind == "f" else str(value)


def _values_right_after_cast(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    """Whether ``got``, cast to the expected dtype, holds the expected values within the tolerance
    (the answer's only fault is its dtype)."""
    try:
        if got.dtype.kind not in "biuf" or expected.dtype.kind not in "biuf":
            return False
        with np.errstate(all="ignore"):
            cast = got.astype(expected.dtype)
        if (np.isfinite(expected) & ~np.isfinite(cast)).any():
            return False
        return bool(np.isclose(cast, expected, rtol=rtol, atol=atol, equal_nan=True).all())
    except (TypeError, ValueError):
        return False


def compare_arrays(
    got: Any,
    expected: np.ndarray,
    *,
    what: str | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> CheckResult:
    """Compare an array answer with the expected array.

    got:      whatever the student's function returned
    expected: np.ndarray from Keras
    what:     how the message names the answer (default: "the output", in the reader's language)
    """
    what = tr("the output") if what is None else what
    expected = np.asarray(expected)
    if type(got) is not np.ndarray:
        return _fail(
            expected.shape,
            _describe(got),
            tr("{what} should be a NumPy array (np.ndarray), but it is {got}.", what=what, got=_describe(got)),
            problem="type",
        )
    if got.shape != expected.shape:
        return _fail(
            expected.shape,
            got.shape,
            tr(
                "{what} has shape {got}; Keras gives shape {expected}.",
                what=what,
                got=got.shape,
                expected=expected.shape,
            ),
            problem="shape",
        )
    if got.dtype != expected.dtype:
        values_ok = _values_right_after_cast(got, expected, rtol, atol)
        return _fail(
            str(expected.dtype),
            str(got.dtype),
            tr(
                "{what} has dtype {got}; Keras gives {expected} (the values are right). Keep the input's dtype, "
                "e.g. create the result with np.zeros(..., dtype=x.dtype) or return result.astype(x.dtype).",
                what=what,
                got=got.dtype,
                expected=expected.dtype,
            )
            if values_ok
            else tr(
                "{what} has dtype {got}; Keras gives {expected}. Keep the input's dtype, e.g. create the result "
                "with np.zeros(..., dtype=x.dtype) or return result.astype(x.dtype).",
                what=what,
                got=got.dtype,
                expected=expected.dtype,
            ),
            problem="dtype",
            values_ok=values_ok,
        )
    finite = np.isfinite(expected)
    bad = finite & ~np.isfinite(got)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return _fail(
            expected[index],
            got[index],
            tr(
                "{what} has {count} NaN or infinite value(s) where Keras has finite numbers, first at index "
                "{index} (value {value}).",
                what=what,
                count=int(bad.sum()),
                index=index,
                value=_number(got[index]),
            ),
            problem="nonfinite",
            index=index,
        )
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        wrong = np.argwhere(~close)
        index = tuple(int(i) for i in wrong[0])
        error = float(np.max(np.abs(got[~close].astype(np.float64) - expected[~close].astype(np.float64))))
        return _fail(
            expected[index],
            got[index],
            tr(
                "{what} has {wrong} of {size} values wrong (largest error {error:.3g}); first at index {index}: "
                "got {got}, Keras gives {expected}.",
                what=what,
                wrong=len(wrong),
                size=expected.size,
                error=error,
                index=index,
                got=_number(got[index]),
                expected=_number(expected[index]),
            ),
            problem="values",
            index=index,
            count=len(wrong),
        )
    return CheckResult(True, expected.shape, got.shape)


def _int_tuple_problem(got: Any, length: int | None, what: str) -> str | None:
    if not isinstance(got, tuple):
        return tr("{what} should be a tuple of ints, but it is {got}.", got=_describe(got), what="{what}")
    if length is not None and len(got) != length:
        return tr(
            "{what} should have {length} entries, but it has {count}: {got}.",
            length=length,
            count=len(got),
            got=repr(got),
            what=what,
        )
    for value in got:
        if not is_int(value):
            if isinstance(value, (float, np.floating)):
                return tr(
                    "{what} should contain only ints, but it contains {value} of type {type} (use // or int(...); "
                    "math.ceil returns an int, np.ceil a float).",
                    value=repr(value),
                    type=type(value).__name__,
                    what=what,
                )
            return tr(
                "{what} should contain only ints, but it contains {value} of type {type}.",
                value=repr(value),
                type=type(value).__name__,
                what=what,
            )
    return None


def compare_int_tuple(got: Any, expected: tuple[int, ...], *, what: str | None = None) -> CheckResult:
    """Compare a shape-like answer (a tuple of ints) with the expected tuple (``what``: how the message names
    it, default "the shape")."""
    what = tr("the shape") if what is None else what
    expected = tuple(int(v) for v in expected)
    problem = _int_tuple_problem(got, len(expected), what)
    if problem:
        kind = "length" if isinstance(got, tuple) and len(got) != len(expected) else "type"
        return _fail(expected, _describe(got), problem, problem=kind)
    got = tuple(int(v) for v in got)
    if got != expected:
        return _fail(
            expected,
            got,
            tr("{what} is {got}; Keras gives {expected}.", what=what, got=got, expected=expected),
            problem="values",
        )
    return CheckResult(True, expected, got)


def compare_int(got: Any, expected: int, *, what: str | None = None) -> CheckResult:
    """Compare an integer answer (e.g. a parameter count) with the expected int (``what``: how the message
    names it, default "the count")."""
    what = tr("the count") if what is None else what
    if not is_int(got):
        return _fail(
            expected,
            _describe(got),
            tr("{what} should be an int, but it is {got}.", what=what, got=_describe(got)),
            problem="type",
        )
    if int(got) != int(expected):
        return _fail(
            int(expected),
            int(got),
            tr("{what} is {got}; Keras gives {expected}.", what=what, got=int(got), expected=int(expected)),
            problem="values",
        )
    return CheckResult(True, int(expected), int(got))


def compare_float(
    got: Any, expected: float, *, what: str | None = None, rtol: float = RTOL, atol: float = ATOL
) -> CheckResult:
    """Compare a number answer (a Python or NumPy float or int, not a bool) with the expected float, within
    ``|got - expected| <= atol + rtol * |expected|`` (``what``: how the message names it, default "the
    value")."""
    what = tr("the value") if what is None else what
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        return _fail(
            float(expected),
            _describe(got),
            tr("{what} should be a number (a float), but it is {got}.", what=what, got=_describe(got)),
            problem="type",
        )
    value = float(got)
    if not np.isfinite(value):
        return _fail(
            float(expected),
            value,
            tr("{what} is {got}; Keras gives {expected:.7g}.", what=what, got=value, expected=float(expected)),
            problem="nonfinite",
        )
    if not np.isclose(value, float(expected), rtol=rtol, atol=atol):
        return _fail(
            float(expected),
            value,
            tr("{what} is {got:.7g}; Keras gives {expected:.7g}.", what=what, got=value, expected=float(expected)),
            problem="values",
        )
    return CheckResult(True, float(expected), value)
