"""judge/timing.py: the conv2d_fast time rule: NumPy's time measured here, a floor, and a message that says how
to vectorize. The reference convolution it times is checked against Keras."""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils.judge import timing
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases

SMALL = Case((np.ones((6, 6, 1), np.float32), np.ones((3, 3, 1, 1), np.float32), np.zeros(1, np.float32)))


def test_the_limit_is_a_multiple_of_numpys_time_and_never_below_the_floor():
    assert timing.time_limit(SMALL) == timing.TIME_FLOOR  # a tiny case: NumPy takes microseconds
    large = suite_cases("conv2d", "large", seed=0)[0]
    reference = timing.reference_seconds(large)
    assert 0 < reference < timing.time_limit(large) / 2, "the limit leaves room for a vectorized answer"


def test_the_slow_message_names_the_call_the_limit_and_the_way_out():
    text = timing.slow_message("conv2d_fast", 3.5, SMALL, 0.5)
    assert text.startswith("conv2d_fast took 3.50 s on conv2d_fast(<array (6, 6, 1) float32>,")
    assert "the limit is 0.50 s" in text and "Vectorize it" in text
    stopped = timing.slow_message("conv2d_fast", 2, SMALL, 0.5, finished=False)
    assert stopped.startswith("conv2d_fast did not finish within 2 s")


@pytest.mark.keras
def test_the_timed_reference_convolution_is_keras():
    """What is timed is a real convolution (else the limit would measure something cheaper): Keras' answers."""
    from grader_utils.judge import truth

    for case in suite_cases("conv2d", "basic") + suite_cases("conv2d", "random", seed=1):
        expected = truth.conv2d(*case.args, **case.kwargs)
        np.testing.assert_allclose(timing._whole_array_conv(*case.args, **case.kwargs), expected, rtol=1e-4, atol=1e-4)
