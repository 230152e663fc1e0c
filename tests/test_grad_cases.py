"""judge/grad_cases.py: 04's suites hold inputs only, in the layouts of the interface, and cover what each
suite is named for (the generic properties -- seeded, sized by n, valid for Keras -- are in test_cases.py)."""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils.judge.cases import SUITES, suite_cases
from grader_utils.judge.grad_cases import GRAD_SUITES
from grader_utils.judge.shapes import as_pair, same_padding_amounts


def _conv(suite: str, seed: int = 0):
    return suite_cases("conv2d_backward", suite, seed=seed)


def _pool(suite: str, seed: int = 0):
    return suite_cases("pool2d_backward", suite, seed=seed)


def test_the_families_and_suites_are_the_interfaces():
    assert set(GRAD_SUITES) == {"conv2d_backward", "pool2d_backward"}
    features = ["valid", "strides", "same"]
    assert list(SUITES["conv2d_backward"]) == ["basic", "random"] + [
        s for f in [*features, "same_crop"] for s in (f, f + "_random")
    ]
    assert list(SUITES["pool2d_backward"]) == ["basic", "random"] + [
        s for f in ["valid", "strides", "ties", "same"] for s in (f, f + "_random")
    ]


@pytest.mark.parametrize("suite", list(GRAD_SUITES["conv2d_backward"]))
def test_conv_cases_are_dout_x_kernel_with_tuple_strides(suite):
    for case in _conv(suite) + _conv(suite, seed=9):
        dout, x, kernel = case.args
        assert set(case.kwargs) == {"strides", "padding"} and case.kwargs["padding"] in ("valid", "same")
        strides = case.kwargs["strides"]
        assert type(strides) is tuple and len(strides) == 2 and all(type(s) is int and s >= 1 for s in strides)
        assert all(a.dtype == np.float32 for a in case.args)
        assert x.ndim == 3 and kernel.ndim == 4 and kernel.shape[2] == x.shape[2]
        assert dout.ndim == 3 and dout.shape[2] == kernel.shape[3]


def test_conv_suites_cover_what_they_are_named_for():
    basic = _conv("basic")
    kinds = {(c.kwargs["strides"], c.kwargs["padding"]) for c in basic}
    # every point of the lesson is visible: stride 1 and 2, 'valid' and 'same' (an even kernel: Keras' split)
    assert {((1, 1), "valid"), ((2, 2), "valid"), ((1, 1), "same"), ((2, 2), "same")} <= kinds
    assert any(c.kwargs["padding"] == "same" and c.args[2].shape[0] % 2 == 0 for c in basic)
    assert all(c.args[1].size <= 100 for c in basic)  # small enough to check by hand
    assert any(c.args[2].shape[2] > 1 and c.args[2].shape[3] > 1 for c in basic)
    same = _conv("same_random") + _conv("same_crop_random")
    assert all(c.kwargs["padding"] == "same" for c in same)
    assert any(c.args[2].shape[0] % 2 == 0 and c.kwargs["strides"] == (1, 1) for c in same)  # an extra bottom row
    assert any(max(c.kwargs["strides"]) > 1 for c in same)
    strided = _conv("strides_random")
    assert all(max(c.kwargs["strides"]) > 1 for c in strided)
    assert {c.kwargs["padding"] for c in strided} == {"valid"}
    assert any(c.args[2].shape[0] != c.args[2].shape[1] for c in strided)  # rectangular kernels
    assert any(c.kwargs["strides"][0] != c.kwargs["strides"][1] for c in strided)
    assert {c.kwargs["padding"] for c in _conv("random")} == {"valid", "same"}


@pytest.mark.parametrize("suite", list(GRAD_SUITES["pool2d_backward"]))
def test_pool_cases_are_dout_x_pool_size_as_02s_pooling(suite):
    """pool_size an int or a pair, strides None, an int or a pair (as 02's max_pool2d takes them)."""
    for case in _pool(suite) + _pool(suite, seed=9):
        dout, x, pool = case.args
        assert set(case.kwargs) == {"strides", "padding"}
        assert as_pair(pool) and (case.kwargs["strides"] is None or as_pair(case.kwargs["strides"]))
        assert x.dtype == dout.dtype == np.float32 and x.ndim == dout.ndim == 3 and dout.shape[2] == x.shape[2]


def _has_tied_window(case) -> bool:
    """Whether some window of the case holds its maximum twice (for the first channel)."""
    dout, x, pool = case.args
    (ph, pw), strides = as_pair(pool), case.kwargs["strides"]
    sh, sw = (ph, pw) if strides is None else as_pair(strides)
    top = same_padding_amounts(x.shape[0], ph, sh)[0] if case.kwargs["padding"] == "same" else 0
    left = same_padding_amounts(x.shape[1], pw, sw)[0] if case.kwargs["padding"] == "same" else 0
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            r, c = i * sh - top, j * sw - left
            window = x[max(r, 0) : r + ph, max(c, 0) : c + pw, 0]
            if window.size and np.sum(window == window.max()) > 1:
                return True
    return False


def test_pool_suites_cover_what_they_are_named_for():
    basic = _pool("basic")
    assert {c.kwargs["padding"] for c in basic} == {"valid", "same"}  # a border window is visible
    assert any(_has_tied_window(c) for c in basic)  # so is a tied maximum
    assert any(c.kwargs["strides"] == (1, 1) for c in basic)  # overlapping windows
    ties = _pool("ties_random")
    assert sum(_has_tied_window(c) for c in ties) >= len(ties) * 3 // 4
    assert all(_has_tied_window(c) for c in _pool("ties"))
    assert all(np.array_equal(c.args[1], np.round(c.args[1])) for c in ties)  # small integers
    same = _pool("same_random")
    assert all(c.kwargs["padding"] == "same" for c in same)
    assert (same[0].args[1] < 0).all()  # a padded zero would win every max
    hanging = [
        c
        for c in same
        if sum(
            same_padding_amounts(n, k, s)[1]
            for n, k, s in zip(c.args[1].shape[:2], as_pair(c.args[2]), as_pair(c.kwargs["strides"] or c.args[2]))
        )
    ]
    assert len(hanging) >= len(same) // 2  # windows over the bottom/right border
    rand = _pool("random")
    assert {c.kwargs["padding"] for c in rand} == {"valid", "same"}
    assert any(c.kwargs["strides"] is None for c in rand)
    assert any(_has_tied_window(c) for c in rand) and not all(_has_tied_window(c) for c in rand)
