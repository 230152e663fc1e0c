"""Checks that the notebooks' test cells call.

``check_<exercise>(func, suite, seed)`` calls the student's function on every
case of a suite, compares each result with Keras (:mod:`truth`) using the
comparator (:mod:`compare`), adds the likely cause (:mod:`feedback`), prints
one line when all is right and raises ``CheckFailed`` (an ``AssertionError`` that IPython shows as
the plain message, without a traceback) otherwise. They
return ``None`` on purpose: nbgrader would read a number returned by a test
cell as a partial score. ``run_suite`` returns the structured report.

The verdict on one call is a plain function of plain data
(``verdict_<exercise>(case, got) -> CheckResult``), so it can run in another
process than the student's code.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import feedback, truth
from .cases import Case, suite_cases
from .compare import CONV_ATOL, CONV_RTOL, DTYPE_SHARE_TEXT, CheckFailed, CheckResult, compare_arrays, compare_int, compare_int_tuple
from .numpy_only import call_numpy_only
from .shapes import as_pair

__all__ = [
    "SuiteReport",
    "graded_by_engine",
    "run_suite",
    "verdict_conv2d_output_shape",
    "verdict_pool2d_output_shape",
    "verdict_max_pool2d",
    "verdict_average_pool2d",
    "verdict_sequential_output_shapes",
    "verdict_sequential_param_counts",
    "check_conv2d_output_shape",
    "check_pool2d_output_shape",
    "check_max_pool2d",
    "check_average_pool2d",
    "check_sequential_output_shapes",
    "check_sequential_param_counts",
    "verdict_dense_param_count",
    "verdict_conv2d_param_count",
    "verdict_correlate2d",
    "verdict_conv2d",
    "check_dense_param_count",
    "check_conv2d_param_count",
    "check_correlate2d",
    "check_conv2d",
    "check_conv2d_fast",
    "verdict_receptive_field",
    "check_receptive_field",
    "CHECK_FAMILIES",
]

Verdict = Callable[[Case, Any], CheckResult]


@dataclass
class SuiteReport:
    """All verdicts of one suite: ``failures`` holds (call text, result) pairs."""

    name: str
    suite: str
    total: int
    failures: list[tuple[str, CheckResult]] = field(default_factory=list)
    rule_broken: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def only_dtype(self) -> bool:
        """Every wrong case is wrong only by its dtype (right shape, right values once cast)."""
        return bool(self.failures) and not self.rule_broken and all(
            r.details.get("problem") == "dtype" and r.details.get("values_ok") for _, r in self.failures)

    def likely_cause(self) -> tuple[str | None, int]:
        """The hint key that explains the most wrong cases, and how many it explains."""
        counts: dict[str, int] = {}
        for _, result in self.failures:
            for key in dict.fromkeys(result.details.get("hints", [])):  # once per case
                counts[key] = counts.get(key, 0) + 1
        if not counts:
            return None, 0
        best = max(counts, key=lambda k: counts[k])  # ties: the first seen, the most specific
        return best, counts[best]

    def message(self) -> str:
        """One line when passed; otherwise the count, one wrong case and the likely cause."""
        if self.passed:
            return f"PASSED {self.name}: all {self.total} {self.suite} cases match Keras."
        if self.rule_broken:
            return self.failures[0][1].message
        key, explained = self.likely_cause()
        call, shown = self.failures[0]
        if self.only_dtype:
            return (f"{self.name}: right values, wrong dtype in {len(self.failures)} of {self.total} {self.suite} "
                    f"cases.\nWrong case: {call}\n{shown.message}\nWhen graded, a test whose only fault is the "
                    f"dtype keeps {DTYPE_SHARE_TEXT} of its points: fix the dtype to get them all.")
        if key is not None:
            call, shown = next((c, r) for c, r in self.failures if key in r.details.get("hints", []))
        text = (f"{self.name}: {len(self.failures)} of {self.total} {self.suite} cases are wrong.\n"
                f"Wrong case: {call}\n{shown.message}")
        if key is not None:
            share = "all of them" if explained == len(self.failures) else f"{explained} of them"
            text += f"\nLikely cause ({share}): {feedback.HINTS[key]}"
        return text


def _with_hints(result: CheckResult, keys: list[str]) -> CheckResult:
    """Attach the keys of :data:`feedback.HINTS` that explain a failed result."""
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
    result = compare_int_tuple(got, expected, what="The returned shape")
    if result.passed:
        return result
    return _with_hints(result, _safe(lambda: feedback.conv_shape_hints(case.args, case.kwargs, got, expected)))


def verdict_pool2d_output_shape(case: Case, got: Any) -> CheckResult:
    expected = truth.pool2d_output_shape(*case.args, **case.kwargs)
    result = compare_int_tuple(got, expected, what="The returned shape")
    if result.passed:
        return result
    return _with_hints(result, _safe(lambda: feedback.pool_shape_hints(case.args, case.kwargs, got, expected)))


def _verdict_pool(kind: str, case: Case, got: Any) -> CheckResult:
    expected = truth.pool2d(case.args[0], kind, *case.args[1:], **case.kwargs)
    result = compare_arrays(got, expected, what="The returned array")
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: feedback.pool_value_hints(kind, case.args, case.kwargs, got,
                                                                       expected)))


def verdict_max_pool2d(case: Case, got: Any) -> CheckResult:
    return _verdict_pool("max", case, got)


def verdict_average_pool2d(case: Case, got: Any) -> CheckResult:
    return _verdict_pool("average", case, got)


def verdict_dense_param_count(case: Case, got: Any) -> CheckResult:
    expected = truth.dense_param_count(*case.args)
    result = compare_int(got, expected, what="The parameter count")
    if result.passed or result.details.get("problem") == "type":
        return result
    input_shape, units = case.args
    keys = ["params_no_bias"] if int(got) == expected - int(units) else []
    return _with_hints(result, keys)


def verdict_conv2d_param_count(case: Case, got: Any) -> CheckResult:
    expected = truth.conv2d_param_count(*case.args)
    result = compare_int(got, expected, what="The parameter count")
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
    result = compare_arrays(got, expected, what="The returned array", rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: feedback.correlate_hints(case.args, got, expected, CONV_RTOL,
                                                                      CONV_ATOL)))


def verdict_conv2d(case: Case, got: Any) -> CheckResult:
    expected = truth.conv2d(*case.args, **case.kwargs)
    result = compare_arrays(got, expected, what="The returned array", rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: feedback.conv_value_hints(case.args, case.kwargs, got, expected,
                                                                       CONV_RTOL, CONV_ATOL)))


def verdict_receptive_field(case: Case, got: Any) -> CheckResult:
    (layers,) = case.args
    expected = truth.receptive_field(layers)
    result = compare_int_tuple(got, expected, what="The returned (height, width)")
    if result.passed or result.details.get("problem") in ("type", "length"):
        return result
    return _with_hints(result, _safe(lambda: feedback.receptive_field_hints(layers, got, expected)))


def _list_problem(got: Any, n: int, what: str) -> str | None:
    if not isinstance(got, list):
        return f"{what} should be a list with one entry per layer, but it is a {type(got).__name__}."
    if len(got) != n:
        return f"{what} should have one entry per layer ({n}), but it has {len(got)}."
    return None


def verdict_sequential_output_shapes(case: Case, got: Any) -> CheckResult:
    input_shape, layers = case.args
    shapes, _ = truth.sequential_summary(input_shape, layers)
    problem = _list_problem(got, len(shapes), "The returned list of shapes")
    if problem:
        return CheckResult(False, shapes, repr(got)[:200], problem)
    for i, (g, e) in enumerate(zip(got, shapes)):
        result = compare_int_tuple(g, e, what=f"The shape of layer {i + 1} ({layers[i][0]})")
        if not result.passed:
            if result.details.get("problem") == "type":
                return result
            got = [tuple(s) if isinstance(s, (tuple, list)) else s for s in got]
            hint = feedback.diagnose_sequential_shapes(input_shape, layers, got, shapes)
            return CheckResult(False, shapes, got, hint or result.message)
    return CheckResult(True, shapes, got)


def verdict_sequential_param_counts(case: Case, got: Any) -> CheckResult:
    input_shape, layers = case.args
    shapes, params = truth.sequential_summary(input_shape, layers)
    problem = _list_problem(got, len(params), "The returned list of parameter counts")
    if problem:
        return CheckResult(False, params, repr(got)[:200], problem)
    if not all(isinstance(g, (int, np.integer)) and not isinstance(g, bool) for g in got):
        return CheckResult(False, params, repr(got)[:200], "Every parameter count should be an int.")
    got = [int(g) for g in got]
    if got != params:
        hint = feedback.diagnose_sequential_params(input_shape, layers, got, params, shapes)
        return CheckResult(False, params, got, hint or f"The counts are {got}; Keras gives {params}.")
    return CheckResult(True, params, got)



#: check function -> (case family, verdict). The test cells' checks and the trusted engine
#: (engine.py) both judge with these pairs.
CHECK_FAMILIES: dict[str, tuple[str, Verdict]] = {
    "check_conv2d_output_shape": ("conv2d_output_shape", verdict_conv2d_output_shape),
    "check_pool2d_output_shape": ("pool2d_output_shape", verdict_pool2d_output_shape),
    "check_max_pool2d": ("pool2d_values", verdict_max_pool2d),
    "check_average_pool2d": ("pool2d_values", verdict_average_pool2d),
    "check_sequential_output_shapes": ("sequential", verdict_sequential_output_shapes),
    "check_sequential_param_counts": ("sequential", verdict_sequential_param_counts),
    "check_dense_param_count": ("dense_param_count", verdict_dense_param_count),
    "check_conv2d_param_count": ("conv2d_param_count", verdict_conv2d_param_count),
    "check_correlate2d": ("correlate2d", verdict_correlate2d),
    "check_conv2d": ("conv2d", verdict_conv2d),
    "check_conv2d_fast": ("conv2d", verdict_conv2d),
    "check_receptive_field": ("receptive_field", verdict_receptive_field),
}

class _Refused(Exception):
    """The call broke a rule of the exercise (not NumPy only, not vectorized)."""


def _call(func: Callable[..., Any], name: str, case: Case, numpy_only: bool = False,
          max_seconds: float | None = None) -> tuple[bool, Any]:
    """Call the student's function on copies of the case's arguments.

    Returns (True, result) or (False, text of the exception). NotImplementedError
    propagates with a message saying what to do; a broken rule raises ``_Refused``."""
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    start = time.perf_counter()
    try:
        if not numpy_only:
            return True, func(*args, **kwargs)
        result, report = call_numpy_only(func, *args, **kwargs)
        seconds = time.perf_counter() - start
    except NotImplementedError:
        raise NotImplementedError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as exc:  # the student's code failed: that is a wrong answer, not a grader crash
        report = getattr(exc, "numpy_only_report", None)
        if report is not None and not report.clean:
            raise _Refused(report.message(name)) from None
        return False, f"{type(exc).__name__}: {exc}"
    if not report.clean:
        raise _Refused(report.message(name))
    if max_seconds is not None and seconds > max_seconds:
        raise _Refused(slow_message(name, seconds, case, max_seconds))
    return True, result


def run_suite(func: Callable[..., Any], name: str, cases: list[Case], verdict: Verdict,
              suite: str = "", numpy_only: bool = False,
              max_seconds: Callable[[Case], float] | None = None) -> SuiteReport:
    """Call ``func`` on each case and judge each result with ``verdict``.

    numpy_only: the function must not run TensorFlow, SciPy & co. (see :mod:`numpy_only`);
    max_seconds: a time limit per case (a check for vectorized code, see :func:`time_limit`).
    A broken rule fails the whole suite with a message saying which rule."""
    if not callable(func):
        raise CheckFailed(f"{name} should be a function, but it is {type(func).__name__}.")
    report = SuiteReport(name, suite, len(cases))
    for case in cases:
        call = case.call_text(name)
        try:
            ok, got = _call(func, name, case, numpy_only, None if max_seconds is None else max_seconds(case))
        except _Refused as refusal:
            report.failures = [(call, CheckResult(False, None, None, str(refusal), {"problem": "rule"}))]
            report.rule_broken = True
            return report
        if not ok:
            report.failures.append((call, CheckResult(False, None, got, f"It raised {got}")))
            continue
        result = verdict(case, got)
        if not result.passed:
            report.failures.append((call, result))
    return report


def graded_by_engine(check: str, suite: str = "") -> bool:
    """True while ``python -m grader_utils grade`` autogrades (``GRADER_ENGINE=1`` in the kernel) and
    the trusted engine judges this check itself: the kernel need not run it (its verdict would be
    replaced anyway), which saves computing Keras' answers and training models in every kernel."""
    from .model_engine import MODEL_CHECKS

    if os.environ.get("GRADER_ENGINE") != "1":
        return False
    return check in CHECK_FAMILIES or check in MODEL_CHECKS


def _check(func: Callable[..., Any], name: str, family: str, verdict: Verdict, suite: str, seed: int,
           n: int | None, numpy_only: bool = False, max_seconds: Callable[[Case], float] | None = None) -> None:
    if graded_by_engine(f"check_{name}", suite):
        print(f"{name} ({suite}): graded by the course's sandboxed grader")
        return None
    report = run_suite(func, name, suite_cases(family, suite, seed=seed, n=n), verdict, suite, numpy_only,
                       max_seconds)
    if not report.passed:
        raise CheckFailed(report.message())
    print(report.message())


def check_conv2d_output_shape(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                              n: int | None = None) -> None:
    """Exercise ``conv2d_output_shape(input_shape, filters, kernel_size, strides, padding)``."""
    return _check(func, "conv2d_output_shape", *CHECK_FAMILIES["check_conv2d_output_shape"],
                  suite, seed, n)


def check_pool2d_output_shape(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                              n: int | None = None) -> None:
    """Exercise ``pool2d_output_shape(input_shape, pool_size, strides, padding)``."""
    return _check(func, "pool2d_output_shape", *CHECK_FAMILIES["check_pool2d_output_shape"],
                  suite, seed, n)


def check_max_pool2d(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                     n: int | None = None) -> None:
    """Exercise ``max_pool2d(x, pool_size, strides, padding)``; x: (H, W, C)."""
    return _check(func, "max_pool2d", *CHECK_FAMILIES["check_max_pool2d"], suite, seed, n, numpy_only=True)


def check_average_pool2d(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                         n: int | None = None) -> None:
    """Exercise ``average_pool2d(x, pool_size, strides, padding)``; x: (H, W, C)."""
    return _check(func, "average_pool2d", *CHECK_FAMILIES["check_average_pool2d"], suite, seed, n,
                  numpy_only=True)


def check_sequential_output_shapes(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                                   n: int | None = None) -> None:
    """Exercise ``sequential_output_shapes(input_shape, layers)``."""
    return _check(func, "sequential_output_shapes", *CHECK_FAMILIES["check_sequential_output_shapes"],
                  suite, seed, n)


def check_sequential_param_counts(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                                  n: int | None = None) -> None:
    """Exercise ``sequential_param_counts(input_shape, layers)``."""
    return _check(func, "sequential_param_counts", *CHECK_FAMILIES["check_sequential_param_counts"],
                  suite, seed, n)


def check_dense_param_count(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                            n: int | None = None) -> None:
    """Exercise ``dense_param_count(input_shape, units)``."""
    return _check(func, "dense_param_count", *CHECK_FAMILIES["check_dense_param_count"], suite, seed, n)


def check_conv2d_param_count(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                             n: int | None = None) -> None:
    """Exercise ``conv2d_param_count(in_channels, filters, kernel_size)``."""
    return _check(func, "conv2d_param_count", *CHECK_FAMILIES["check_conv2d_param_count"], suite, seed, n)


def check_correlate2d(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                      n: int | None = None) -> None:
    """Exercise ``correlate2d(image, kernel)``; image: (H, W), kernel: (kh, kw). NumPy only."""
    return _check(func, "correlate2d", *CHECK_FAMILIES["check_correlate2d"], suite, seed, n, numpy_only=True)


def check_conv2d(func: Callable[..., Any], suite: str = "basic", seed: int = 0, n: int | None = None) -> None:
    """Exercise ``conv2d(x, kernel, bias, strides, padding)``; x: (H, W, C_in). NumPy only."""
    return _check(func, "conv2d", *CHECK_FAMILIES["check_conv2d"], suite, seed, n, numpy_only=True)


def check_receptive_field(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                          n: int | None = None) -> None:
    """Exercise ``receptive_field(layers)`` -> (height, width) of the input region one output pixel sees."""
    return _check(func, "receptive_field", *CHECK_FAMILIES["check_receptive_field"], suite, seed, n)


#: the time rule of ``conv2d_fast`` on its ``large`` suite: at most TIME_FACTOR times as long as
#: whole-array NumPy (:func:`reference_seconds`, timed in the same process that times the student's
#: call), and never less than TIME_FLOOR seconds. The grader times a call from outside the sandbox
#: (writing the input, the kernel's round trip, reading the answer), so the floor leaves room for
#: that and for a loaded machine: on the large cases (about a million output pixels) vectorized
#: answers take 0.01 to 0.15 s, a Python loop over output pixels 1.3 s (one matrix product per
#: pixel) to 8 s (a sum per pixel and channel), 60 to 250 times whole-array NumPy.
TIME_FACTOR = 25.0
TIME_FLOOR = 0.5


def _whole_array_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any = (1, 1),
                      padding: str = "valid") -> np.ndarray:
    """A vectorized convolution (one matrix product per kernel offset) used only to time NumPy.
    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,)."""
    kh, kw = kernel.shape[:2]
    sh, sw = as_pair(strides)
    if padding == "same":
        from .shapes import same_padding_amounts

        (top, bottom), (left, right) = (same_padding_amounts(x.shape[0], kh, sh),
                                        same_padding_amounts(x.shape[1], kw, sw))
        x = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, kernel.shape[3]), dtype=np.float32)
    for a in range(kh):
        for b in range(kw):
            out += x[a:a + sh * (h_out - 1) + 1:sh, b:b + sw * (w_out - 1) + 1:sw] @ kernel[a, b]
    return out + bias


def reference_seconds(case: Case) -> float:
    """Seconds whole-array NumPy takes for ``case`` here and now (the best of three runs)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        _whole_array_conv(*case.args, **case.kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def time_limit(case: Case) -> float:
    """The most seconds a vectorized ``conv2d_fast`` may take on ``case``."""
    return max(TIME_FLOOR, TIME_FACTOR * reference_seconds(case))


def slow_message(name: str, seconds: float, case: Case, limit: float, finished: bool = True) -> str:
    """What a student reads when a vectorized exercise is as slow as a loop over pixels (``finished``
    False: the call was stopped after ``seconds``, already well over the limit)."""
    took = (f"{name} took {seconds:.2f} s" if finished else f"{name} did not finish within {seconds:g} s")
    return (f"{took} on {case.call_text(name)}; the limit is {limit:.2f} s "
            f"({TIME_FACTOR:g} times what whole-array NumPy takes on this machine, at least {TIME_FLOOR:g} s). "
            f"That is the speed of a Python loop over the output pixels. Vectorize it: loop at most over the "
            f"kernel offsets (kh * kw steps) and let NumPy do each step on whole arrays (slicing, einsum, "
            f"tensordot, sliding_window_view).")


def check_conv2d_fast(func: Callable[..., Any], suite: str = "basic", seed: int = 0,
                      n: int | None = None) -> None:
    """Exercise ``conv2d_fast``: the contract of ``conv2d``, NumPy only, and as fast as whole-array
    NumPy code (on the ``large`` suite: at most :data:`TIME_FACTOR` times as long, see :func:`time_limit`)."""
    limit = time_limit if suite == "large" else None
    return _check(func, "conv2d_fast", *CHECK_FAMILIES["check_conv2d_fast"], suite, seed, n, numpy_only=True,
                  max_seconds=limit)
