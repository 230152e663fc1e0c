"""judge/layer_feedback.py: each diagnosis of 05 names its classic mistake (tests/reference_layers.py) on every
case the mistake gets wrong, never fires on a right answer (any suite), and stays quiet on a mistake it is not
about."""

from __future__ import annotations

import numpy as np
import pytest

import reference_layers as ref
from grader_utils import checks
from grader_utils.judge import layer_feedback, layer_verdicts
from grader_utils.judge.cases import SUITES, suite_cases
from grader_utils.judge.hints import HINTS
from grader_utils.judge.suite import SuiteReport

pytestmark = pytest.mark.keras

#: exercise -> (case family, verdict)
JUDGED = {
    "dropout_forward": ("dropout_forward", layer_verdicts.verdict_dropout_forward),
    "batchnorm_forward": ("batchnorm_forward", layer_verdicts.verdict_batchnorm_forward),
    "im2col": ("im2col", layer_verdicts.verdict_im2col),
    "conv2d_macs": ("conv2d_macs", layer_verdicts.verdict_conv2d_macs),
    "initial_loss": ("initial_loss", layer_verdicts.verdict_initial_loss),
}

#: (exercise, mistake of reference_layers.WRONG) -> the hint key that names it
NAMED = {
    ("dropout_forward", "not_scaled"): "dropout_not_scaled",
    ("dropout_forward", "scale_multiplied"): "dropout_scale_multiplied",
    ("dropout_forward", "divided_by_rate"): "dropout_divided_by_rate",
    ("dropout_forward", "mask_inverted"): "dropout_mask_inverted",
    ("dropout_forward", "at_inference"): "dropout_at_inference",
    ("dropout_forward", "mask_at_inference"): "dropout_mask_at_inference",
    ("dropout_forward", "inference_scaled"): "dropout_inference_scaled",
    ("batchnorm_forward", "unbiased_variance"): "bn_unbiased_variance",
    ("batchnorm_forward", "stats_over_batch_only"): "bn_stats_over_batch_only",
    ("batchnorm_forward", "momentum_swapped"): "bn_momentum_swapped",
    ("batchnorm_forward", "moving_not_updated"): "bn_moving_not_updated",
    ("batchnorm_forward", "moving_stats_in_training"): "bn_moving_stats_in_training",
    ("batchnorm_forward", "batch_stats_at_inference"): "bn_batch_stats_at_inference",
    ("batchnorm_forward", "moving_updated_at_inference"): "bn_moving_updated_at_inference",
    ("im2col", "channels_first"): "im2col_channels_first",
    ("im2col", "transposed"): "im2col_transposed",
    ("im2col", "pads_swapped"): "same_extra_top_left",
    ("im2col", "strides_ignored"): "strides_ignored",
    ("conv2d_macs", "as_flops"): "macs_as_flops",
    ("conv2d_macs", "bias_counted"): "macs_bias_counted",
    ("conv2d_macs", "no_channels"): "macs_no_channels",
    ("conv2d_macs", "input_size"): "macs_input_size",
    ("conv2d_macs", "strides_ignored"): "macs_strides_ignored",
    ("initial_loss", "log10"): "loss_log10",
    ("initial_loss", "log2"): "loss_log2",
    ("initial_loss", "probability"): "loss_probability",
    ("initial_loss", "negative"): "loss_negative",
}
#: mistakes that give the same number on some cases ('same' padding: the input's size is the size at stride 1)
SAME_NUMBER = {"macs_strides_ignored": ("macs_input_size",), "macs_input_size": ("macs_strides_ignored",)}
LAYER_KEYS = {k for k in HINTS if k.startswith(("dropout_", "bn_", "im2col_", "macs_", "loss_"))}


def _report(function: str, answer, suite: str, seed: int) -> SuiteReport:
    family, verdict = JUDGED[function]
    return checks.run_suite(answer, function, suite_cases(family, suite, seed=seed), verdict, suite)


def test_every_mistake_of_reference_layers_is_listed_and_every_05_hint_names_one():
    assert set(NAMED) == {(f, m) for f, wrong in ref.WRONG.items() for m in wrong}
    assert LAYER_KEYS <= set(NAMED.values()) <= set(HINTS)


@pytest.mark.parametrize("function,mistake", sorted(NAMED))
def test_each_diagnosis_names_its_mistake_on_every_case_it_gets_wrong(function, mistake):
    key = NAMED[(function, mistake)]
    wrong_cases = 0
    for suite in SUITES[JUDGED[function][0]]:
        for seed in (0, 1):
            report = _report(function, ref.WRONG[function][mistake], suite, seed)
            wrong_cases += len(report.failures)
            for call, result in report.failures:
                assert key in result.details.get("hints", []), (suite, call, result.message)
            if report.failures:  # the likely cause is the key, or one that explains every failure as well
                cause, count = report.likely_cause()
                assert count == len(report.failures) and (cause == key or cause in SAME_NUMBER.get(key, ()))
    assert wrong_cases >= 2


@pytest.mark.parametrize("function", sorted(ref.CORRECT))
def test_right_answers_pass_every_suite_with_no_hint(function):
    if function == "conv2d_im2col":  # 02's conv2d contract, judged by 02's verdict
        from grader_utils.judge.verdicts import verdict_conv2d

        for suite in ("basic", "same_random", "strides", "strides_random", "random"):
            report = checks.run_suite(ref.conv2d_im2col, function, suite_cases("conv2d", suite, seed=5), verdict_conv2d)
            assert not report.failures, report.message()
        return
    for answer in ref.CORRECT[function]:
        for suite in SUITES[JUDGED[function][0]]:
            for seed in (0, 7):
                report = _report(function, answer, suite, seed)
                assert not report.failures, report.message()


def test_a_diagnosis_stays_quiet_when_its_variant_is_the_right_answer():
    """rate 0.5: dividing by rate is dividing by 1 - rate; stride 1: no stride mistake; 'same' at stride 1: the
    input's size is the output's."""
    x, keep = np.ones(4, np.float32), np.array([1, 0, 1, 1], bool)
    assert "dropout_divided_by_rate" not in layer_feedback.dropout_hints((x, 0.5, keep), {"training": True}, x, x)
    variants = layer_feedback.macs_variants((8, 8, 3), 4, 3, 1, "same")
    right = variants["macs_strides_ignored"]()
    assert layer_feedback.macs_hints(((8, 8, 3), 4, 3), {"strides": 1, "padding": "same"}, right, right) == []
    assert variants["macs_input_size"]() == right


def test_answers_that_are_not_numbers_get_no_diagnosis():
    assert layer_feedback.loss_hints((10,), {}, "2.3", 2.302585) == []
    assert layer_feedback.macs_hints(((8, 8, 3), 4, 3), {}, 3.0, 1) == []
    assert layer_feedback.batchnorm_hints((), {}, [1, 2, 3], (np.ones(1),) * 3) == []
    assert layer_feedback.im2col_hints((np.ones((2, 2, 1), np.float32), 1), {}, "x", np.ones((4, 1))) == []
