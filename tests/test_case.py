"""judge/case.py: a Case is shown as the call a student would type (arrays by shape and dtype, never their
contents); random sizes are ints or pairs within their bounds."""

from __future__ import annotations

import numpy as np

from grader_utils.judge.case import Case, random_size


def test_call_text_formats_arrays_by_shape_and_dtype():
    x = np.zeros((4, 5, 2), dtype=np.float32)
    case = Case((x, (2, 2)), {"strides": None, "padding": "same"})
    assert case.call_text("max_pool2d") == "max_pool2d(<array (4, 5, 2) float32>, (2, 2), strides=None, padding='same')"


def test_call_text_of_plain_arguments_uses_repr():
    case = Case(((28, 56, 3), 8, (3, 3)), {"strides": (1, 1), "padding": "same"})
    assert (
        case.call_text("conv2d_output_shape")
        == "conv2d_output_shape((28, 56, 3), 8, (3, 3), strides=(1, 1), padding='same')"
    )
    assert Case(((32, 32, 3), 32, 3)).call_text("f") == "f((32, 32, 3), 32, 3)"


def test_call_text_never_prints_array_contents():
    x = np.arange(1000, dtype=np.float32).reshape(10, 10, 10)
    text = Case((x, 2)).call_text("average_pool2d")
    assert text == "average_pool2d(<array (10, 10, 10) float32>, 2)"


def test_random_size_is_an_int_or_a_pair_within_its_bounds():
    rng = np.random.default_rng(0)
    sizes = [random_size(rng, 2, 5) for _ in range(200)]
    ints, pairs = [s for s in sizes if isinstance(s, int)], [s for s in sizes if isinstance(s, tuple)]
    assert ints and pairs and all(2 <= v <= 5 for v in ints + [v for p in pairs for v in p])
    assert {type(v) for p in pairs for v in p} == {int}
    assert all(isinstance(random_size(rng, 1, 3, pair_chance=0.0), int) for _ in range(50))
    assert all(isinstance(random_size(rng, 1, 3, pair_chance=1.0), tuple) for _ in range(50))
