"""Verdicts of assignment 05 (training a CNN well): ``verdict_<function>(case, got) -> CheckResult``.

As in :mod:`.verdicts`: plain functions of plain data, run in the grading process; the expected answers
come from :mod:`.layer_truth`, the comparison from the one comparator (:mod:`.compare`) and the likely
causes of a wrong answer from :mod:`.layer_feedback` (``details["hints"]``). ``conv2d_im2col`` has 02's
``conv2d`` contract and its verdict (:func:`.verdicts.verdict_conv2d`).

Tolerances: dropout and im2col move or scale single values (the default RTOL/ATOL); batch normalisation
sums over the batch and divides by a square root, as a convolution sums, so it uses the convolutions'
``CONV_RTOL``/``CONV_ATOL`` (a classic mistake, e.g. the unbiased variance of 8 values, moves values by
about 1 %, far outside); the initial loss is a float32 number of Keras, compared with RTOL.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from . import layer_feedback, layer_truth
from .case import Case
from .compare import CONV_ATOL, CONV_RTOL, CheckResult, compare_arrays, compare_float, compare_int
from .grad_verdicts import compare_gradients
from .verdicts import _safe, _with_hints

__all__ = [
    "BN_PARTS",
    "verdict_dropout_forward",
    "verdict_batchnorm_forward",
    "verdict_im2col",
    "verdict_conv2d_macs",
    "verdict_initial_loss",
]

#: the parts of ``batchnorm_forward``'s answer, in the order it returns them
BN_PARTS = layer_feedback.BN_PARTS


def verdict_dropout_forward(case: Case, got: Any) -> CheckResult:
    """``dropout_forward(x, rate, keep_mask, training=) -> out`` (like x)."""
    expected = layer_truth.dropout_forward(*case.args, **case.kwargs)
    result = compare_arrays(got, expected, what=tr("The returned array"))
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: layer_feedback.dropout_hints(case.args, case.kwargs, got, expected)))


def verdict_batchnorm_forward(case: Case, got: Any) -> CheckResult:
    """``batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum=, epsilon=, training=) -> (out,
    moving_mean, moving_var)``."""
    expected = layer_truth.batchnorm_forward(*case.args, **case.kwargs)
    result = compare_gradients(got, expected, BN_PARTS, rtol=CONV_RTOL, atol=CONV_ATOL)
    if result.passed or result.details.get("problem") in ("type", "length", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: layer_feedback.batchnorm_hints(case.args, case.kwargs, got, expected)))


def verdict_im2col(case: Case, got: Any) -> CheckResult:
    """``im2col(x, kernel_size, strides=, padding=) -> (H_out * W_out, kh * kw * C)``."""
    expected = layer_truth.im2col(*case.args, **case.kwargs)
    result = compare_arrays(got, expected, what=tr("The returned matrix"))
    if result.passed or result.details.get("problem") in ("type", "dtype"):
        return result
    return _with_hints(result, _safe(lambda: layer_feedback.im2col_hints(case.args, case.kwargs, got, expected)))


def verdict_conv2d_macs(case: Case, got: Any) -> CheckResult:
    """``conv2d_macs(input_shape, filters, kernel_size, strides=, padding=) -> int``."""
    expected = layer_truth.conv2d_macs(*case.args, **case.kwargs)
    result = compare_int(got, expected, what=tr("The number of multiply-adds"))
    if result.passed or result.details.get("problem") == "type":
        return result
    return _with_hints(result, _safe(lambda: layer_feedback.macs_hints(case.args, case.kwargs, got, expected)))


def verdict_initial_loss(case: Case, got: Any) -> CheckResult:
    """``initial_loss(num_classes) -> float``."""
    expected = layer_truth.initial_loss(*case.args)
    result = compare_float(got, expected, what=tr("The initial loss"))
    if result.passed or result.details.get("problem") == "type":
        return result
    return _with_hints(result, _safe(lambda: layer_feedback.loss_hints(case.args, case.kwargs, got, expected)))
