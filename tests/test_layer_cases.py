"""judge/layer_cases.py: 05's suites hold inputs of the layouts their docstrings state (what Keras makes of each
case: tests/test_cases.py's Keras check; what a right answer and each mistake get: test_layer_feedback.py)."""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils.judge.case import Case
from grader_utils.judge.layer_cases import LAYER_SUITES


def _cases(family: str, seed: int = 0) -> list[Case]:
    return [c for factory in LAYER_SUITES[family].values() for c in factory(np.random.default_rng(seed))]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropout_cases_have_a_bool_mask_like_x_and_a_rate_inside_zero_one(seed):
    cases = _cases("dropout_forward", seed)
    for case in cases:
        x, rate, keep = case.args
        assert x.dtype == np.float32 and keep.dtype == bool and keep.shape == x.shape and 1 <= x.ndim <= 4
        assert 0 < rate < 1 and isinstance(case.kwargs["training"], bool)
    assert {c.kwargs["training"] for c in cases} == {True, False}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_cases_are_batches_of_images_with_per_channel_parameters(seed):
    cases = _cases("batchnorm_forward", seed)
    for case in cases:
        x, *params = case.args
        assert x.dtype == np.float32 and x.ndim == 4 and x.shape[0] * x.shape[1] * x.shape[2] >= 2
        assert all(p.shape == (x.shape[3],) and p.dtype == np.float32 for p in params)
        assert (params[3] > 0).all()
        assert 0 < case.kwargs["momentum"] < 1 and 0 < case.kwargs["epsilon"] < 1
    assert {c.kwargs["training"] for c in cases} == {True, False}


def test_batchnorm_basic_starts_with_the_lessons_channel_of_one_to_eight():
    x = LAYER_SUITES["batchnorm_forward"]["basic"](None)[0].args[0]
    assert x.reshape(-1).tolist() == list(range(1, 9)) and x.mean() == 4.5 and x.var() == 5.25


@pytest.mark.parametrize("seed", [0, 1])
def test_im2col_cases_are_images_with_a_kernel_strides_and_padding(seed):
    cases = _cases("im2col", seed)
    for case in cases:
        x, kernel = case.args
        assert x.dtype == np.float32 and x.ndim == 3
        assert isinstance(kernel, (int, tuple)) and len(case.kwargs["strides"]) == 2
    assert {c.kwargs["padding"] for c in cases} == {"valid", "same"}


@pytest.mark.parametrize("seed", [0, 1])
def test_macs_and_loss_cases_are_plain_ints(seed):
    for case in _cases("conv2d_macs", seed):
        shape, filters, _ = case.args
        assert len(shape) == 3 and all(type(v) is int for v in (*shape, filters))
    for case in _cases("initial_loss", seed):
        assert type(case.args[0]) is int and case.args[0] >= 2
