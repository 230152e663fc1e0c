"""judge/layer_verdicts.py: 05's verdicts pass right answers, fail wrong ones with the comparator's message
(type, length, shape, dtype before values), keep the dtype share's marks, and attach the likely causes."""

from __future__ import annotations

import numpy as np
import pytest

import reference_layers as ref
from grader_utils.judge import layer_verdicts as lv
from grader_utils.judge.cases import suite_cases

pytestmark = pytest.mark.keras


def _case(family: str, index: int = 1):
    return suite_cases(family, "basic")[index]


def test_dropout_right_wrong_dtype_and_hinted():
    case = _case("dropout_forward")
    right = ref.dropout_forward(*case.args, **case.kwargs)
    assert lv.verdict_dropout_forward(case, right).passed
    as64 = lv.verdict_dropout_forward(case, right.astype(np.float64))
    assert as64.details["problem"] == "dtype" and as64.details["values_ok"]
    wrong = lv.verdict_dropout_forward(case, ref.WRONG["dropout_forward"]["not_scaled"](*case.args, **case.kwargs))
    assert not wrong.passed and wrong.details["hints"] == ["dropout_not_scaled"]
    assert lv.verdict_dropout_forward(case, [1.0]).details["problem"] == "type"


def test_batchnorm_checks_a_tuple_of_three_and_names_the_wrong_part():
    case = _case("batchnorm_forward")
    right = ref.batchnorm_forward(*case.args, **case.kwargs)
    assert lv.verdict_batchnorm_forward(case, right).passed
    assert lv.verdict_batchnorm_forward(case, list(right)).details["problem"] == "type"
    assert lv.verdict_batchnorm_forward(case, right[:2]).details["problem"] == "length"
    wrong = ref.WRONG["batchnorm_forward"]["momentum_swapped"](*case.args, **case.kwargs)
    result = lv.verdict_batchnorm_forward(case, wrong)
    assert result.details["parts"] == ["moving_mean", "moving_var"] and result.details["hints"] == [
        "bn_momentum_swapped"
    ]
    assert "out is right." in result.message
    as64 = lv.verdict_batchnorm_forward(case, tuple(p.astype(np.float64) for p in right))
    assert as64.details["problem"] == "dtype" and as64.details["values_ok"]


def test_im2col_a_transposed_matrix_is_a_shape_failure_with_its_cause():
    case = _case("im2col", 0)
    right = ref.im2col(*case.args, **case.kwargs)
    assert right.shape == (4, 9) and lv.verdict_im2col(case, right).passed
    result = lv.verdict_im2col(case, right.T.copy())
    assert result.details["problem"] == "shape" and result.details["hints"] == ["im2col_transposed"]


def test_macs_int_and_loss_float():
    case = _case("conv2d_macs", 0)
    assert lv.verdict_conv2d_macs(case, 32 * 32 * 9 * 3 * 32).passed
    assert lv.verdict_conv2d_macs(case, float(32 * 32 * 9 * 3 * 32)).details["problem"] == "type"
    assert lv.verdict_conv2d_macs(case, 2 * 32 * 32 * 9 * 3 * 32).details["hints"] == ["macs_as_flops"]
    loss = _case("initial_loss", 1)
    assert lv.verdict_initial_loss(loss, np.log(10)).passed
    result = lv.verdict_initial_loss(loss, np.log10(10))
    assert result.details["hints"] == ["loss_log10"] and result.message.startswith("The initial loss is 1;")
