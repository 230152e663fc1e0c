"""judge/shape_feedback.py: every output-shape mistake (conv, pooling) gets its hint, and none fires on a
correct answer. The buggy implementations are in tests/mistakes.py; expected shapes come from Keras."""

from __future__ import annotations

import pytest

import reference_impls as ref
from grader_utils.judge import shape_feedback, truth
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.hints import HINTS
from mistakes import (
    AXIS_MISTAKES,
    CONV_SHAPE_MISTAKES,
    POOL_SHAPE_MISTAKES,
    assert_named,
    conv_shape_impl,
    pool_shape_impl,
    run,
)

pytestmark = pytest.mark.keras


@pytest.mark.parametrize("key,suite", CONV_SHAPE_MISTAKES)
def test_conv_shape_axis_mistake_is_named(key, suite):
    report = run(conv_shape_impl(AXIS_MISTAKES[key]), "conv2d_output_shape", "conv2d_output_shape", suite, seed=7)
    assert_named(report, key)


@pytest.mark.parametrize("key", list(AXIS_MISTAKES))
def test_pool_shape_axis_mistake_is_named(key):
    report = run(pool_shape_impl(AXIS_MISTAKES[key]), "pool2d_output_shape", "pool2d_output_shape", "random", seed=7)
    assert_named(report, key)


def test_conv_shape_swapped_height_width_is_named():
    report = run(conv_shape_impl(swap_hw=True), "conv2d_output_shape", "conv2d_output_shape", "random", seed=7)
    assert_named(report, "swapped_height_width")


def test_conv_shape_channels_instead_of_filters_is_named():
    report = run(conv_shape_impl(channels_not_filters=True), "conv2d_output_shape", "conv2d_output_shape", "basic")
    assert_named(report, "channels_not_filters")
    assert "8" in report.message() or "5" in report.message()


@pytest.mark.parametrize("key", list(POOL_SHAPE_MISTAKES))
@pytest.mark.parametrize("suite", ["basic", "random"])
def test_pool_shape_mistake_is_named(key, suite):
    report = run(
        pool_shape_impl(**POOL_SHAPE_MISTAKES[key]), "pool2d_output_shape", "pool2d_output_shape", suite, seed=7
    )
    assert_named(report, key)


def test_single_call_diagnoses_give_the_hint_text():
    """diagnose_conv_shape / diagnose_pool_shape return the HINTS text, or None."""
    args, kwargs = ((29, 57, 3), 8, (3, 3)), {"strides": (2, 2), "padding": "same"}
    expected = truth.conv2d_output_shape(*args, **kwargs)
    floor = conv_shape_impl(AXIS_MISTAKES["same_floor"])(*args, **kwargs)
    assert shape_feedback.diagnose_conv_shape(args, kwargs, floor, expected) == HINTS["same_floor"]
    assert floor != expected
    assert shape_feedback.diagnose_conv_shape(args, kwargs, (1, 2, 8), expected) is None
    pool_args, pool_kwargs = ((15, 15, 1), (2, 2)), {"strides": None, "padding": "valid"}
    expected = truth.pool2d_output_shape(*pool_args, **pool_kwargs)
    got = pool_shape_impl(none_as_one=True)(*pool_args, **pool_kwargs)
    diagnosis = shape_feedback.diagnose_pool_shape(pool_args, pool_kwargs, got, expected)
    assert diagnosis == HINTS["pool_strides_none_as_one"]


def test_symmetric_formula_hint_says_what_keras_does_with_sizes():
    """Issue #12, item 1: pad = (k - 1) // 2 on both sides gives Keras' output size for every odd kernel
    at every stride (0 wrong of 416 cases), and a wrong one for 163 of 312 even-kernel cases. The hint
    says so, and it is named exactly where the sizes differ."""
    formula = AXIS_MISTAKES["same_symmetric_formula"]
    wrong = {"odd": 0, "even": 0}
    total = {"odd": 0, "even": 0}
    for k in range(1, 8):
        for s in range(1, 5):
            for n in range(k, 30):
                parity = "odd" if k % 2 else "even"
                expected = truth.conv2d_output_shape((n, n, 1), 1, k, strides=s, padding="same")
                got = (formula(n, k, s, "same"),) * 2 + (1,)
                keys = shape_feedback.conv_shape_hints(
                    ((n, n, 1), 1, k), {"strides": s, "padding": "same"}, got, expected
                )
                total[parity] += 1
                wrong[parity] += got != expected
                assert ("same_symmetric_formula" in keys) == (got != expected), (n, k, s)
    assert (wrong, total) == ({"odd": 0, "even": 163}, {"odd": 416, "even": 312})
    assert "output size for odd kernels (at any stride) but not for even ones" in HINTS["same_symmetric_formula"]
    assert "wrong for even kernels and for strides > 1" not in HINTS["same_symmetric_formula"]


def test_no_shape_diagnosis_fires_on_a_correct_answer():
    for case in suite_cases("conv2d_output_shape", "same_strides", seed=3) + suite_cases(
        "conv2d_output_shape", "random", seed=3
    ):
        got = ref.conv2d_output_shape(*case.args, **case.kwargs)
        expected = truth.conv2d_output_shape(*case.args, **case.kwargs)
        assert shape_feedback.conv_shape_hints(case.args, case.kwargs, got, expected) == []
    for case in suite_cases("pool2d_output_shape", "random", seed=3):
        got = ref.pool2d_output_shape(*case.args, **case.kwargs)
        expected = truth.pool2d_output_shape(*case.args, **case.kwargs)
        assert shape_feedback.pool_shape_hints(case.args, case.kwargs, got, expected) == []
