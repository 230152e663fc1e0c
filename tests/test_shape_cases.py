"""judge/shape_cases.py: the output-shape and parameter-count cases exercise what the exercises are about
(both paddings, int and pair sizes, pooling strides given and left to default)."""

from __future__ import annotations

import numpy as np

from grader_utils.judge import shape_cases
from grader_utils.judge.cases import suite_cases


def test_random_shape_cases_use_both_paddings_pairs_and_none_strides():
    conv = suite_cases("conv2d_output_shape", "random", seed=0)
    assert {c.kwargs["padding"] for c in conv} == {"valid", "same"}
    assert any(isinstance(c.args[2], int) for c in conv) and any(isinstance(c.args[2], tuple) for c in conv)
    pool = suite_cases("pool2d_output_shape", "random", seed=0)
    assert any(c.kwargs["strides"] is None for c in pool) and any(c.kwargs["strides"] is not None for c in pool)
    same = suite_cases("conv2d_output_shape", "same_strides", seed=0)
    assert all(c.kwargs["padding"] == "same" and min(c.kwargs["strides"]) >= 2 for c in same)
    assert any(c.args[2][0] % 2 == 0 for c in same)


def test_valid_shape_cases_never_ask_for_a_window_larger_than_the_input():
    """Keras has no output for a 'valid' window larger than the image: such a case could not be judged."""
    rng = np.random.default_rng(5)
    for case in shape_cases.conv_shape_random(rng, 300) + shape_cases.pool_shape_random(rng, 300):
        (h, w, _), size = case.args[0], case.args[2] if len(case.args) > 2 else case.args[1]
        kh, kw = (size, size) if isinstance(size, int) else size
        if case.kwargs["padding"] == "valid":
            assert kh <= h and kw <= w, case.call_text("f")


def test_parameter_count_cases_are_positive_sizes():
    rng = np.random.default_rng(6)
    for case in (
        shape_cases.dense_params_basic()
        + shape_cases.dense_params_random(rng, 50)
        + shape_cases.conv_params_basic()
        + shape_cases.conv_params_random(rng, 50)
    ):
        assert all(min(a) >= 1 if isinstance(a, tuple) else a >= 1 for a in case.args), case.call_text("f")
