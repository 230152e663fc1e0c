"""judge/hints.py: every hint of the shape, pooling and Sequential diagnoses is given for the mistake it names
(by the tests of tests/mistakes.py's implementations), and a correct answer gets no hint: it passes."""

from __future__ import annotations

import pytest

import reference_impls as ref
from grader_utils import checks
from grader_utils.judge.hints import HINTS
from mistakes import COVERED, SHAPE_POOL_SEQUENTIAL_KEYS

pytestmark = pytest.mark.keras


def test_every_shape_pool_and_sequential_hint_is_exercised():
    assert set(HINTS) >= SHAPE_POOL_SEQUENTIAL_KEYS
    assert COVERED == SHAPE_POOL_SEQUENTIAL_KEYS


@pytest.mark.parametrize(
    "check,func,suites",
    [
        (
            checks.check_conv2d_output_shape,
            ref.conv2d_output_shape,
            [("basic", 0), ("same_strides", 202), ("random", 2021), ("random", 3)],
        ),
        (checks.check_pool2d_output_shape, ref.pool2d_output_shape, [("basic", 0), ("random", 2022), ("random", 3)]),
        (
            checks.check_max_pool2d,
            ref.max_pool2d,
            [
                ("valid", 0),
                ("valid_random", 2023),
                ("strides", 0),
                ("strides_random", 2024),
                ("same", 0),
                ("same_random", 2029),
            ],
        ),
        (
            checks.check_average_pool2d,
            ref.average_pool2d,
            [
                ("valid", 0),
                ("valid_random", 2025),
                ("strides", 0),
                ("strides_random", 2026),
                ("same", 0),
                ("same_random", 2030),
            ],
        ),
        (
            checks.check_sequential_output_shapes,
            ref.sequential_output_shapes,
            [("basic", 0), ("edge", 0), ("random", 2027)],
        ),
        (
            checks.check_sequential_param_counts,
            ref.sequential_param_counts,
            [("basic", 0), ("edge", 0), ("random", 2028)],
        ),
    ],
    ids=lambda v: getattr(v, "__name__", None) if callable(v) else None,
)
def test_correct_implementation_passes_every_suite(check, func, suites, capsys):
    for suite, seed in suites:
        check(func, suite, seed=seed)
        assert capsys.readouterr().out.startswith("PASSED ")
