"""judge/array_cases.py: the array cases are in Keras' layouts and dtypes, hold both signs, and the timed
cases are as large as the time rule needs."""

from __future__ import annotations

import numpy as np

from grader_utils.judge import array_cases
from grader_utils.judge.cases import suite_cases


def test_pooled_value_cases_are_float32_images_with_negative_values():
    values = suite_cases("pool2d_values", "same_random", seed=0)
    assert all(c.kwargs["padding"] == "same" for c in values)
    assert all(c.args[0].dtype == np.float32 and c.args[0].ndim == 3 for c in values)
    assert any((c.args[0] < 0).any() for c in values)


def test_conv_cases_are_in_keras_layouts():
    """x (H, W, C_in), kernel (kh, kw, C_in, C_out), bias (C_out,), all float32; a 'valid' kernel fits."""
    rng = np.random.default_rng(0)
    for case in (
        array_cases.conv_basic()
        + array_cases.conv_valid()
        + array_cases.conv_valid_random(rng)
        + array_cases.conv_strides()
        + array_cases.conv_same_fixed()
        + array_cases.conv_same(rng)
        + array_cases.conv_strided(rng)
        + array_cases.conv_random(rng)
    ):
        x, kernel, bias = case.args
        assert x.ndim == 3 and kernel.ndim == 4 and bias.shape == (kernel.shape[3],)
        assert x.shape[2] == kernel.shape[2] and {a.dtype for a in case.args} == {np.dtype(np.float32)}
        if case.kwargs.get("padding", "valid") == "valid":
            assert kernel.shape[0] <= x.shape[0] and kernel.shape[1] <= x.shape[1]


def test_correlate_cases_are_2d_with_a_kernel_that_fits():
    rng = np.random.default_rng(0)
    for case in array_cases.correlate_basic() + array_cases.correlate_random(rng):
        image, kernel = case.args
        assert image.ndim == kernel.ndim == 2
        assert kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1]


def test_large_conv_cases_have_close_to_a_million_output_pixels():
    """The time rule tells a loop over pixels from vectorized code only on large outputs."""
    for case in array_cases.conv_large(np.random.default_rng(0), 2):
        x, kernel, _ = case.args
        sh, sw = case.kwargs["strides"]
        if case.kwargs["padding"] == "same":
            out = -(-x.shape[0] // sh) * -(-x.shape[1] // sw)
        else:
            out = ((x.shape[0] - kernel.shape[0]) // sh + 1) * ((x.shape[1] - kernel.shape[1]) // sw + 1)
        assert out >= 700_000, case.call_text("conv2d_fast")
