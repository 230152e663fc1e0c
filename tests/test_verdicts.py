"""judge/verdicts.py: a verdict judges one answer against Keras and names the likely cause of a wrong one."""

from __future__ import annotations

import pytest

from grader_utils import checks
from grader_utils.judge import verdicts
from grader_utils.judge.cases import suite_cases

pytestmark = pytest.mark.keras


def test_param_count_diagnoses():
    def no_bias(c_in, filters, kernel_size):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        return kh * kw * c_in * filters

    def no_channels(c_in, filters, kernel_size):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        return (kh * kw + 1) * filters

    cases = suite_cases("conv2d_param_count", "basic")
    assert (
        checks.run_suite(no_bias, "p", cases, verdicts.verdict_conv2d_param_count).likely_cause()[0] == "params_no_bias"
    )
    assert (
        checks.run_suite(no_channels, "p", cases, verdicts.verdict_conv2d_param_count).likely_cause()[0]
        == "conv_params_no_channels"
    )
