"""Student implementations that each make one named mistake, for the tests of the judge's diagnoses
(tests/test_shape_feedback.py, test_value_feedback.py, test_stack_feedback.py, test_hints.py).

They are written from the mistake's description and never compute the right answer from Keras; expected
answers come from Keras (through ``checks``/``truth``) or from the definitions in ``reference_impls``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import reference_impls as ref
from grader_utils import checks
from grader_utils.judge import verdicts
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.hints import HINTS

AxisRule = Callable[[int, int, int, str], int]


SHAPE_POOL_SEQUENTIAL_KEYS = {
    "same_floor",
    "same_symmetric_formula",
    "same_ignores_strides",
    "valid_as_same",
    "valid_rounded_up",
    "valid_missing_plus_one",
    "valid_ignores_strides",
    "swapped_height_width",
    "channels_not_filters",
    "pool_changes_channels",
    "pool_strides_none_as_one",
    "pool_size_as_strides",
    "same_extra_top_left",
    "average_counts_padding",
    "max_pads_zeros",
    "same_as_valid",
    "params_no_bias",
    "params_in_pool",
    "conv_params_no_channels",
    "dense_on_last_axis",
}


def correct_axis(n: int, k: int, s: int, padding: str) -> int:
    return ref.out_length(n, k, s, padding)


AXIS_MISTAKES: dict[str, AxisRule] = {
    "same_floor": lambda n, k, s, p: n // s if p == "same" else correct_axis(n, k, s, p),
    "same_symmetric_formula": lambda n, k, s, p: (
        (n + 2 * ((k - 1) // 2) - k) // s + 1 if p == "same" else correct_axis(n, k, s, p)
    ),
    "same_ignores_strides": lambda n, k, s, p: n if p == "same" else correct_axis(n, k, s, p),
    "same_as_valid": lambda n, k, s, p: (n - k) // s + 1,
    "valid_as_same": lambda n, k, s, p: math.ceil(n / s),
    "valid_rounded_up": lambda n, k, s, p: math.ceil((n - k) / s) + 1 if p == "valid" else correct_axis(n, k, s, p),
    "valid_missing_plus_one": lambda n, k, s, p: (n - k) // s if p == "valid" else correct_axis(n, k, s, p),
    "valid_ignores_strides": lambda n, k, s, p: n - k + 1 if p == "valid" else correct_axis(n, k, s, p),
}


def conv_shape_impl(
    axis: AxisRule = correct_axis, swap_hw: bool = False, channels_not_filters: bool = False
) -> Callable[..., tuple[int, int, int]]:
    """A student's ``conv2d_output_shape`` with the given mistakes."""

    def conv2d_output_shape(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
        h, w, c = input_shape
        (kh, kw), (sh, sw) = ref.to_pair(kernel_size), ref.to_pair(strides)
        p = padding.lower()
        ho, wo = axis(h, kh, sh, p), axis(w, kw, sw, p)
        if swap_hw:
            ho, wo = wo, ho
        return ho, wo, (c if channels_not_filters else filters)

    return conv2d_output_shape


def pool_shape_impl(
    axis: AxisRule = correct_axis,
    none_as_one: bool = False,
    ignore_strides: bool = False,
    channels_to_one: bool = False,
) -> Callable[..., tuple[int, int, int]]:
    """A student's ``pool2d_output_shape`` with the given mistakes."""

    def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
        h, w, c = input_shape
        ph, pw = ref.to_pair(pool_size)
        if strides is None:
            sh, sw = (1, 1) if none_as_one else (ph, pw)
        else:
            sh, sw = (ph, pw) if ignore_strides else ref.to_pair(strides)
        p = padding.lower()
        return axis(h, ph, sh, p), axis(w, pw, sw, p), (1 if channels_to_one else c)

    return pool2d_output_shape


def pool_values_impl(
    kind: str,
    none_as_one: bool = False,
    ignore_strides: bool = False,
    swap_hw: bool = False,
    same_as_valid: bool = False,
    extra_top_left: bool = False,
    pad_zeros: bool = False,
) -> Callable[..., np.ndarray]:
    """A student's ``max_pool2d`` / ``average_pool2d`` with the given mistakes, NumPy loops only.

    pad_zeros: 'same' pads the image with zeros and every window then uses all its kh * kw
    values (a max can be a padded 0, an average divides by kh * kw)."""

    def pool(x, pool_size, strides=None, padding="valid"):
        ph, pw = ref.to_pair(pool_size)
        if strides is None:
            sh, sw = (1, 1) if none_as_one else (ph, pw)
        else:
            sh, sw = (ph, pw) if ignore_strides else ref.to_pair(strides)
        if swap_hw:
            ph, pw, sh, sw = pw, ph, sw, sh
        p = "valid" if same_as_valid else padding.lower()
        h, w, c = x.shape
        ho, wo = ref.out_length(h, ph, sh, p), ref.out_length(w, pw, sw, p)
        top = left = 0
        if p == "same":
            (t0, t1), (l0, l1) = ref.same_pads(h, ph, sh), ref.same_pads(w, pw, sw)
            top, left = (t1, l1) if extra_top_left else (t0, l0)
        out = np.empty((ho, wo, c), dtype=x.dtype)
        for i in range(ho):
            r0 = i * sh - top
            for j in range(wo):
                c0 = j * sw - left
                window = x[max(r0, 0) : min(r0 + ph, h), max(c0, 0) : min(c0 + pw, w)].astype(np.float64)
                inside = window.shape[0] * window.shape[1]
                if kind == "max":
                    best = window.max(axis=(0, 1))
                    out[i, j] = np.maximum(best, 0.0) if pad_zeros and inside < ph * pw else best
                else:
                    out[i, j] = window.sum(axis=(0, 1)) / (ph * pw if pad_zeros else inside)
        return out

    pool.__name__ = f"{kind}_pool2d"
    return pool


def run(
    func: Callable[..., Any],
    exercise: str,
    family: str,
    suite: str,
    seed: int = 0,
    n: int | None = None,
    cases: list[Case] | None = None,
) -> checks.SuiteReport:
    by_exercise = {
        "conv2d_output_shape": verdicts.verdict_conv2d_output_shape,
        "pool2d_output_shape": verdicts.verdict_pool2d_output_shape,
        "max_pool2d": verdicts.verdict_max_pool2d,
        "average_pool2d": verdicts.verdict_average_pool2d,
        "sequential_output_shapes": verdicts.verdict_sequential_output_shapes,
        "sequential_param_counts": verdicts.verdict_sequential_param_counts,
    }
    if cases is None:
        cases = suite_cases(family, suite, seed=seed, n=n)
    return checks.run_suite(func, exercise, cases, by_exercise[exercise], suite)


def max_variants_are_safe(case: Case) -> bool:
    """False when a diagnosis of a wrong max_pool2d answer on ``case`` would run Keras' MaxPooling2D
    with 'valid' padding and a window larger than the input (the swapped-axes and 'same'-as-'valid'
    variants): with the window larger than the input TensorFlow can kill the interpreter (SIGFPE; see
    test_a_wrong_max_pool_answer_never_kills_the_grader), so
    in-process tests keep away from those cases."""
    x, pool = case.args
    k = ref.to_pair(pool)
    h, w = x.shape[:2]
    padding = case.kwargs.get("padding", "valid").lower()
    windows = [k] if padding == "same" else [k[::-1]]  # 'same' read as 'valid' / swapped axes
    return all(kh <= h and kw <= w for kh, kw in windows)


def safe_cases(suite: str, seed: int = 0, n: int | None = None) -> list[Case]:
    return [c for c in suite_cases("pool2d_values", suite, seed=seed, n=n) if max_variants_are_safe(c)]


def params_impl(
    no_bias: bool = False, pool_params: bool = False, no_channels: bool = False, dense_flattens: bool = False
) -> Callable[..., list[int]]:
    """A student's ``sequential_param_counts`` with the given mistakes."""

    def sequential_param_counts(input_shape, layers):
        inputs = [tuple(input_shape)] + ref.sequential_output_shapes(input_shape, layers)[:-1]
        counts = []
        bias = 0 if no_bias else 1
        for (kind, kw), shape in zip(layers, inputs):
            if kind == "conv2d":
                kh, kw_ = ref.to_pair(kw["kernel_size"])
                c_in = 1 if no_channels else shape[-1]
                counts.append((kh * kw_ * c_in + bias) * kw["filters"])
            elif kind == "dense":
                n_in = math.prod(shape) if dense_flattens else shape[-1]
                counts.append((n_in + bias) * kw["units"])
            elif pool_params and kind.endswith("pooling2d"):
                ph, pw = ref.to_pair(kw["pool_size"])
                counts.append(ph * pw * shape[-1])  # "a pooling window has weights"
            else:
                counts.append(0)
        return counts

    return sequential_param_counts


def shapes_impl(
    dense_flattens: bool = False,
    conv_shape: Callable[..., Any] | None = None,
    pool_shape: Callable[..., Any] | None = None,
) -> Callable[..., list[tuple[int, ...]]]:
    """A student's ``sequential_output_shapes``: correct except for the given layer rules."""

    def sequential_output_shapes(input_shape, layers):
        shape, shapes = tuple(input_shape), []
        for kind, kw in layers:
            if kind == "conv2d" and conv_shape is not None:
                shape = conv_shape(
                    shape, kw["filters"], kw["kernel_size"], kw.get("strides", (1, 1)), kw.get("padding", "valid")
                )
            elif kind.endswith("pooling2d") and pool_shape is not None:
                shape = pool_shape(shape, kw["pool_size"], kw.get("strides"), kw.get("padding", "valid"))
            elif kind == "dense" and dense_flattens:
                shape = (int(kw["units"]),)
            else:
                shape = ref.sequential_output_shapes(shape, [(kind, kw)])[0]
            shapes.append(tuple(shape))
        return shapes

    return sequential_output_shapes


def assert_named(report: checks.SuiteReport, key: str, explains_all: bool = True) -> None:
    """The report fails, names ``key`` as the likely cause and shows its hint to the student."""
    assert not report.passed, "the buggy implementation should fail this suite"
    message = report.message()
    cause, explained = report.likely_cause()
    assert cause == key, (cause, message)
    assert HINTS[key] in message
    if explains_all:
        assert explained == len(report.failures)
        assert "Likely cause (all of them)" in message


CONV_SHAPE_MISTAKES = [
    (key, suite)
    for key in AXIS_MISTAKES
    for suite in ("random", "same_strides")
    if suite == "random" or key.startswith("same")
]


POOL_SHAPE_MISTAKES = {
    "pool_changes_channels": {"channels_to_one": True},
    "pool_strides_none_as_one": {"none_as_one": True},
    "pool_size_as_strides": {"ignore_strides": True},
}


POOL_VALUE_MISTAKES = [
    # (kind, mistake options, key, suite)
    *[(kind, {"none_as_one": True}, "pool_strides_none_as_one", "random") for kind in ("max", "average")],
    *[(kind, {"ignore_strides": True}, "pool_size_as_strides", "random") for kind in ("max", "average")],
    *[(kind, {"swap_hw": True}, "swapped_height_width", "random") for kind in ("max", "average")],
    *[(kind, {"same_as_valid": True}, "same_as_valid", "same_random") for kind in ("max", "average")],
    *[(kind, {"extra_top_left": True}, "same_extra_top_left", "same_random") for kind in ("max", "average")],
    ("max", {"pad_zeros": True}, "max_pads_zeros", "same_random"),
    ("average", {"pad_zeros": True}, "average_counts_padding", "same_random"),
]


SEQUENTIAL_MISTAKES = [
    # (exercise, implementation, key, suite)
    ("sequential_param_counts", params_impl(no_bias=True), "params_no_bias", "basic"),
    ("sequential_param_counts", params_impl(no_bias=True), "params_no_bias", "random"),
    ("sequential_param_counts", params_impl(pool_params=True), "params_in_pool", "basic"),
    ("sequential_param_counts", params_impl(no_channels=True), "conv_params_no_channels", "basic"),
    ("sequential_param_counts", params_impl(dense_flattens=True), "dense_on_last_axis", "edge"),
    ("sequential_output_shapes", shapes_impl(dense_flattens=True), "dense_on_last_axis", "edge"),
    (
        "sequential_output_shapes",
        shapes_impl(conv_shape=conv_shape_impl(channels_not_filters=True)),
        "channels_not_filters",
        "basic",
    ),
    (
        "sequential_output_shapes",
        shapes_impl(pool_shape=pool_shape_impl(none_as_one=True)),
        "pool_strides_none_as_one",
        "basic",
    ),
    (
        "sequential_output_shapes",
        shapes_impl(conv_shape=conv_shape_impl(AXIS_MISTAKES["valid_missing_plus_one"])),
        "valid_missing_plus_one",
        "basic",
    ),
]


def rf_impl(
    ignore_strides: bool = False,
    multiply: bool = False,
    skip_pooling: bool = False,
    own_stride: bool = False,
    swap: bool = False,
) -> Callable[..., tuple[int, int]]:
    """A student's ``receptive_field`` with the given mistake, written from its description."""

    def receptive_field(layers):
        size = []
        for axis in (0, 1):
            r, j = 1, 1
            for kind, kw in layers:
                if skip_pooling and kind != "conv2d":
                    continue
                k, s = (v[axis] for v in ref.layer_geometry(kind, kw))
                if multiply:
                    r *= k
                elif ignore_strides:
                    r += k - 1
                elif own_stride:
                    r += (k - 1) * s
                else:
                    r += (k - 1) * j
                j *= s
            size.append(r)
        return (size[1], size[0]) if swap else (size[0], size[1])

    return receptive_field


RF_MISTAKES = {
    "rf_strides_ignored": rf_impl(ignore_strides=True),
    "rf_kernels_multiplied": rf_impl(multiply=True),
    "rf_pooling_skipped": rf_impl(skip_pooling=True),
    "rf_own_stride": rf_impl(own_stride=True),
    "swapped_height_width": rf_impl(swap=True),
}


#: shape mistakes named by their own tests (test_shape_feedback: swapped axes, channels instead of filters)
OWN_TEST_MISTAKES = {"swapped_height_width", "channels_not_filters"}

#: every key of HINTS the tests of the shape, pooling and Sequential diagnoses make a mistake for
COVERED: set[str] = (
    {key for key, _ in CONV_SHAPE_MISTAKES}
    | OWN_TEST_MISTAKES
    | set(POOL_SHAPE_MISTAKES)
    | {key for _, _, key, _ in POOL_VALUE_MISTAKES}
    | {key for _, _, key, _ in SEQUENTIAL_MISTAKES}
)
