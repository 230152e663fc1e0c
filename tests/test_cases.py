"""judge/cases.py: every suite of every family yields cases, random suites are seeded, and every case is a valid
Keras configuration (what the cases of each family are about: test_shape_cases.py, test_array_cases.py,
test_stack_cases.py; how a case is shown: test_case.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader_utils.judge.case import Case
from grader_utils.judge.cases import SUITES, suite_cases

ALL_SUITES = [(family, suite) for family, suites in SUITES.items() for suite in suites]


def is_fixed(family: str, suite: str) -> bool:
    """Fixed suites are written ``lambda rng, n=None: ...`` and ignore both (the convention of
    :data:`cases.SUITES`); random suites are the named generator functions."""
    return SUITES[family][suite].__name__ == "<lambda>"


RANDOM_SUITES = [(f, s) for f, s in ALL_SUITES if not is_fixed(f, s)]
FIXED_SUITES = [(f, s) for f, s in ALL_SUITES if is_fixed(f, s)]

#: the seeds the notebook's hidden tests use, per (family, suite)
NOTEBOOK_SEEDS = {
    ("conv2d_output_shape", "same_strides"): [202],
    ("conv2d_output_shape", "random"): [2021],
    ("pool2d_output_shape", "random"): [2022],
    ("pool2d_values", "valid_random"): [2023, 2025],
    ("pool2d_values", "strides_random"): [2024, 2026],
    ("pool2d_values", "same_random"): [2029, 2030],
    ("conv2d", "valid_random"): [104],
    ("conv2d", "strides_random"): [105],
    ("conv2d", "same_random"): [106],
    ("sequential", "random"): [2027, 2028],
    ("receptive_field", "random"): [2031],
    ("conv2d_backward", "valid_random"): [401],
    ("conv2d_backward", "strides_random"): [402],
    ("conv2d_backward", "same_random"): [403],
    ("conv2d_backward", "same_crop_random"): [409],
    ("pool2d_backward", "valid_random"): [404, 408],
    ("pool2d_backward", "strides_random"): [405, 410],
    ("pool2d_backward", "ties_random"): [406],
    ("pool2d_backward", "same_random"): [407, 411],
    ("initial_loss", "random"): [501],
    ("dropout_forward", "random"): [502],
    ("batchnorm_forward", "random"): [503],
    ("im2col", "same_padding"): [504],
    ("im2col", "random"): [505],
    ("conv2d", "random"): [506],
    ("conv2d_macs", "random"): [507],
}


def same_value(a: Any, b: Any) -> bool:
    """Structural equality that compares arrays by dtype, shape and content."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b)
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def same_cases(a: list[Case], b: list[Case]) -> bool:
    return len(a) == len(b) and all(same_value(x.args, y.args) and same_value(x.kwargs, y.kwargs) for x, y in zip(a, b))


@pytest.mark.parametrize("family,suite", ALL_SUITES)
def test_every_suite_produces_cases(family, suite):
    got = suite_cases(family, suite)
    assert len(got) > 0
    assert all(isinstance(c, Case) and isinstance(c.args, tuple) and isinstance(c.kwargs, dict) for c in got)


@pytest.mark.parametrize("family,suite", RANDOM_SUITES)
def test_random_suites_are_deterministic_for_a_seed(family, suite):
    assert same_cases(suite_cases(family, suite, seed=7), suite_cases(family, suite, seed=7))
    assert same_cases(suite_cases(family, suite, seed=7, n=5), suite_cases(family, suite, seed=7, n=5))


@pytest.mark.parametrize("family,suite", RANDOM_SUITES)
def test_random_suites_differ_across_seeds(family, suite):
    a, b = suite_cases(family, suite, seed=1), suite_cases(family, suite, seed=2)
    assert not same_cases(a, b)
    assert sum(same_value(x.args, y.args) and same_value(x.kwargs, y.kwargs) for x, y in zip(a, b)) < len(a) / 2


@pytest.mark.parametrize("family,suite", RANDOM_SUITES)
def test_n_sets_the_size_of_a_random_suite(family, suite):
    assert len(suite_cases(family, suite, seed=3, n=4)) == 4
    assert same_cases(suite_cases(family, suite, seed=3, n=4), suite_cases(family, suite, seed=3, n=4))


def test_suite_kinds():
    assert ("sequential", "edge") in FIXED_SUITES and ("pool2d_values", "same_random") in RANDOM_SUITES
    assert all((f, "basic") in FIXED_SUITES for f in SUITES)


@pytest.mark.parametrize("family,suite", FIXED_SUITES)
def test_fixed_suites_ignore_seed_and_n(family, suite):
    assert same_cases(suite_cases(family, suite, seed=0), suite_cases(family, suite, seed=99, n=2))


def test_unknown_suite_raises_value_error():
    with pytest.raises(ValueError, match="no suite 'hidden' for 'pool2d_values'"):
        suite_cases("pool2d_values", "hidden")
    with pytest.raises(ValueError, match="no suite 'basic' for 'conv3d'"):
        suite_cases("conv3d", "basic")


# --- every case is a valid Keras configuration ----------------------------------------------------------


def _seeds(family: str, suite: str) -> list[int]:
    return [0, *NOTEBOOK_SEEDS.get((family, suite), [])] if (family, suite) in RANDOM_SUITES else [0]


def _valid(family: str, case: Case) -> None:
    """Ask Keras (through truth) for the answer of ``case``; it must exist and be non-empty."""
    from grader_utils.judge import truth

    if family in ("conv2d_output_shape", "pool2d_output_shape"):
        func = truth.conv2d_output_shape if family == "conv2d_output_shape" else truth.pool2d_output_shape
        assert min(func(*case.args, **case.kwargs)) >= 1
    elif family == "pool2d_values":
        for func in (truth.max_pool2d, truth.average_pool2d):
            out = func(*case.args, **case.kwargs)
            assert out.size > 0 and np.isfinite(out).all(), case.call_text(func.__name__)
    elif family == "sequential":
        shapes, params = truth.sequential_summary(*case.args)
        assert len(shapes) == len(case.args[1]) and all(min(s) >= 1 for s in shapes)
    elif family in ("dense_param_count", "conv2d_param_count"):
        assert getattr(truth, family)(*case.args, **case.kwargs) > 0
    elif family in ("correlate2d", "conv2d"):
        out = getattr(truth, family)(*case.args, **case.kwargs)
        assert out.size > 0 and np.isfinite(out).all(), case.call_text(family)
    elif family in ("conv2d_backward", "pool2d_backward"):
        _valid_gradient(family, case)
    elif family in LAYER_TRUTH:
        out = LAYER_TRUTH[family](*case.args, **case.kwargs)
        parts = out if isinstance(out, tuple) else (out,)
        assert all(np.size(p) > 0 and np.isfinite(p).all() for p in parts), case.call_text(family)
        if family in ("conv2d_macs", "initial_loss"):
            assert out > 0, case.call_text(family)
    elif family == "receptive_field":
        size = truth.receptive_field(*case.args)
        assert min(size) >= 1 and all(kind in truth.RECEPTIVE_FIELD_KINDS for kind, _ in case.args[0])
    else:
        pytest.fail(f"no Keras check written for the suite family {family!r}")


def _layer_truth() -> dict:
    from grader_utils.judge import layer_truth

    names = ("dropout_forward", "batchnorm_forward", "im2col", "conv2d_macs", "initial_loss")
    return {name: getattr(layer_truth, name) for name in names}


#: 05's families -> their truth (layer_truth refuses a rate outside (0, 1), a mask or parameters of the wrong
#: shape, a window that does not fit)
LAYER_TRUTH = _layer_truth()


def _valid_gradient(family: str, case: Case) -> None:
    """04's cases: Keras' gradients exist (grad_truth refuses a dout that is not the layer's output shape)."""
    from grader_utils.judge import grad_truth

    if family == "conv2d_backward":
        grads = grad_truth.conv2d_backward(*case.args, **case.kwargs)
    else:
        grads = tuple(
            grad_truth.pool2d_backward(case.args[0], case.args[1], kind, *case.args[2:], **case.kwargs)
            for kind in ("max", "average")
        )
    assert all(g.size > 0 and np.isfinite(g).all() for g in grads), case.call_text(family)


@pytest.mark.keras
@pytest.mark.parametrize("family,suite", ALL_SUITES)
def test_every_case_is_valid_for_keras(family, suite):
    for seed in _seeds(family, suite):
        for case in suite_cases(family, suite, seed=seed):
            _valid(family, case)


# --- suites per taught feature (issue #25 item 1) -------------------------------------------------------


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _tied(x: np.ndarray, pool: tuple[int, int]) -> bool:
    """Some window side by side ('valid', strides = pool) holds its maximum twice in some channel."""
    ph, pw = pool
    for i in range(0, x.shape[0] - ph + 1, ph):
        for j in range(0, x.shape[1] - pw + 1, pw):
            w = x[i : i + ph, j : j + pw]
            if ((w == w.max(axis=(0, 1))).sum(axis=(0, 1)) > 1).any():
                return True
    return False


def feature_of(family: str, case: Case) -> str:
    """The one taught feature a case exercises, computed from its arguments alone: 'same' padding (04's
    convolution: 'same_crop' when Keras pads more at the bottom/right), strides that are not the pool (or
    not 1 for a convolution), tied maxima (04's pooling), else 'valid'."""
    from grader_utils.judge.shapes import same_padding_amounts

    padding = case.kwargs.get("padding", "valid")
    if family in ("conv2d", "conv2d_backward"):
        x, kernel = (case.args[0], case.args[1]) if family == "conv2d" else (case.args[1], case.args[2])
        strides = _pair(case.kwargs.get("strides", (1, 1)))
        if padding == "same":
            pads = [same_padding_amounts(n, k, s) for n, k, s in zip(x.shape[:2], kernel.shape[:2], strides)]
            return "same_crop" if family == "conv2d_backward" and any(a != b for a, b in pads) else "same"
        return "valid" if strides == (1, 1) else "strides"
    x, pool = (case.args[0], case.args[1]) if family == "pool2d_values" else (case.args[1], case.args[2])
    pool = _pair(pool)
    strides = pool if case.kwargs.get("strides") is None else _pair(case.kwargs["strides"])
    if padding == "same":
        return "same"
    if strides != pool:
        return "strides"
    return "ties" if family == "pool2d_backward" and _tied(x, pool) else "valid"


FEATURE_SUITES = [
    (family, suite)
    for family in ("pool2d_values", "conv2d", "conv2d_backward", "pool2d_backward")
    for suite in SUITES[family]
    if suite not in ("basic", "random", "large")
]


@pytest.mark.parametrize("family,suite", FEATURE_SUITES)
def test_a_feature_suite_exercises_its_feature_and_no_other(family, suite):
    """Points follow what works: each test cell of 02/04 grades one feature (its visible suite, then
    its hidden '<feature>_random'), so an answer right on 'valid' but wrong on 'same' keeps the 'valid'
    share. That holds only if no case of a feature's suite needs another feature: checked here case by
    case, for the notebooks' seeds too."""
    feature = suite.removesuffix("_random")
    for seed in _seeds(family, suite):
        got = {feature_of(family, c) for c in suite_cases(family, suite, seed=seed)}
        assert got == {feature}, (family, suite, seed, got)


def test_every_feature_has_a_visible_and_a_hidden_suite():
    for family, suite in FEATURE_SUITES:
        assert is_fixed(family, suite) != suite.endswith("_random"), (family, suite)
        twin = suite.removesuffix("_random") if suite.endswith("_random") else suite + "_random"
        assert twin in SUITES[family], (family, suite)
