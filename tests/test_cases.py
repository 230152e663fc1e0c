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
    ("pool2d_values", "same_padding"): [2023, 2025],
    ("pool2d_values", "random"): [2024, 2026],
    ("sequential", "random"): [2027, 2028],
    ("receptive_field", "random"): [2031],
    ("conv2d_backward", "same_padding"): [401],
    ("conv2d_backward", "strides"): [402],
    ("conv2d_backward", "random"): [403],
    ("pool2d_backward", "ties"): [404],
    ("pool2d_backward", "same_padding"): [405, 407],
    ("pool2d_backward", "random"): [406, 408],
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
    assert ("sequential", "edge") in FIXED_SUITES and ("pool2d_values", "same_padding") in RANDOM_SUITES
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
