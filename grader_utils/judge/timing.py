"""The time rule of the vectorized exercise (``conv2d_fast`` on its ``large`` suite).

The limit is measured here and now against whole-array NumPy (:func:`time_limit`); the grading
process times the student's call from outside the sandbox (:mod:`grader_utils.grading.plan` sets the alarm
and decides the second try, :mod:`grader_utils.grading.graded_run` measures the seconds).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..i18n import tr
from .case import Case
from .shapes import as_pair, same_padding_amounts

#: the time rule of ``conv2d_fast`` on its ``large`` suite: at most TIME_FACTOR times as long as
#: whole-array NumPy (:func:`reference_seconds`, timed in the same process that times the student's
#: call), and never less than TIME_FLOOR seconds. The grader times a call from outside the sandbox
#: (writing the input, the kernel's round trip, reading the answer), so the floor leaves room for
#: that and for a loaded machine: on the large cases (about a million output pixels) vectorized
#: answers take 0.01 to 0.15 s, a Python loop over output pixels 1.3 s (one matrix product per
#: pixel) to 8 s (a sum per pixel and channel), 60 to 250 times whole-array NumPy.
TIME_FACTOR = 25.0
TIME_FLOOR = 0.5


def _whole_array_conv(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> np.ndarray:
    """A vectorized convolution (one matrix product per kernel offset) used only to time NumPy.
    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,)."""
    kh, kw = kernel.shape[:2]
    sh, sw = as_pair(strides)
    if padding == "same":
        (top, bottom), (left, right) = (
            same_padding_amounts(x.shape[0], kh, sh),
            same_padding_amounts(x.shape[1], kw, sw),
        )
        x = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, kernel.shape[3]), dtype=np.float32)
    for a in range(kh):
        for b in range(kw):
            out += x[a : a + sh * (h_out - 1) + 1 : sh, b : b + sw * (w_out - 1) + 1 : sw] @ kernel[a, b]
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
    values = {
        "name": name,
        "seconds": seconds,
        "call": case.call_text(name),
        "limit": limit,
        "factor": TIME_FACTOR,
        "floor": TIME_FLOOR,
    }
    advice = tr(
        "That is the speed of a Python loop over the output pixels. Vectorize it: loop at most over the kernel "
        "offsets (kh * kw steps) and let NumPy do each step on whole arrays (slicing, einsum, tensordot, "
        "sliding_window_view)."
    )
    took = (
        tr(
            "{name} took {seconds:.2f} s on {call}; the limit is {limit:.2f} s ({factor:g} times what whole-array "
            "NumPy takes on this machine, at least {floor:g} s).",
            **values,
        )
        if finished
        else tr(
            "{name} did not finish within {seconds:g} s on {call}; the limit is {limit:.2f} s ({factor:g} times "
            "what whole-array NumPy takes on this machine, at least {floor:g} s).",
            **values,
        )
    )
    return f"{took} {advice}"
