"""Each convolution diagnosis fires on the bug it names, and none fires on a correct answer.

The buggy implementations below each make one classic mistake; the expected outputs they
are judged against come from Keras (through the checks), never from this file.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils import checks
from grader_utils.judge import verdicts
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.hints import HINTS

pytestmark = pytest.mark.keras


def make_conv(flip=False, bias=True, relu=False, pad="keras", strides="ok", channels="ok", transpose=False):
    """A NumPy conv2d (float64 inside, float32 out) with switchable mistakes."""

    def conv(x, kernel, b, strides_arg=(1, 1), padding="valid"):
        k = kernel[::-1, ::-1] if flip else kernel
        if channels == "swap":
            k = k.transpose(0, 1, 3, 2)
        if transpose:
            k = k.transpose(1, 0, 2, 3)
        kh, kw = k.shape[:2]
        sh, sw = (strides_arg, strides_arg) if isinstance(strides_arg, int) else strides_arg
        if strides == "ignore":
            sh = sw = 1
        elif strides == "swap":
            sh, sw = sw, sh
        if padding == "same":
            h, w = x.shape[:2]
            th = max((-(-h // sh) - 1) * sh + kh - h, 0)
            tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
            pads = {"keras": ((th // 2, th - th // 2), (tw // 2, tw - tw // 2)),
                    "top_left": ((th - th // 2, th // 2), (tw - tw // 2, tw // 2)),
                    "symmetric": (((kh - 1) // 2,) * 2, ((kw - 1) // 2,) * 2),
                    "none": ((0, 0), (0, 0))}[pad]
            x = np.pad(x, (*pads, (0, 0)))
        h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
        out = np.zeros((h_out, w_out, k.shape[3]))
        for i in range(h_out):
            for j in range(w_out):
                out[i, j] = np.tensordot(x[i * sh:i * sh + kh, j * sw:j * sw + kw].astype(np.float64),
                                         k.astype(np.float64), axes=3)
        if bias:
            out += b
        if relu:
            out = np.maximum(out, 0)
        return out.astype(np.float32)

    def with_keywords(x, kernel, b, strides=(1, 1), padding="valid"):
        return conv(x, kernel, b, strides, padding)

    return with_keywords


def off_by_one(x, kernel, b, strides=(1, 1), padding="valid"):
    full = make_conv()(x, kernel, b, strides, padding)
    return full[:-1] if full.shape[0] > 1 else np.concatenate([full, full])


def square_cases(rng, n, padding, strides):
    """Cases with C_in == C_out > 1 and square kernels, so that every variant is defined."""
    cases = []
    for _ in range(n):
        c, k = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        h, w = int(rng.integers(k + 2, 12)), int(rng.integers(k + 2, 12))
        cases.append(Case((rng.normal(size=(h, w, c)).astype(np.float32),
                           rng.normal(size=(k, k, c, c)).astype(np.float32),
                           rng.normal(size=c).astype(np.float32)), {"strides": strides, "padding": padding}))
    return cases


BUGS = [
    ("flipped_kernel", make_conv(flip=True), "valid", (1, 1)),
    ("missing_bias", make_conv(bias=False), "valid", (2, 1)),
    ("applied_relu", make_conv(relu=True), "same", (1, 1)),
    ("conv_same_symmetric", make_conv(pad="symmetric"), "same", (2, 2)),
    ("same_extra_top_left", make_conv(pad="top_left"), "same", (2, 2)),
    ("same_as_valid", make_conv(pad="none"), "same", (1, 1)),
    ("strides_ignored", make_conv(strides="ignore"), "valid", (2, 3)),
    ("strides_swapped", make_conv(strides="swap"), "valid", (1, 3)),
    ("channels_swapped", make_conv(channels="swap"), "valid", (1, 1)),
    ("kernel_transposed", make_conv(transpose=True), "valid", (1, 1)),
    ("off_by_one", off_by_one, "valid", (1, 1)),
]


@pytest.mark.parametrize("key,func,padding,strides", BUGS, ids=[b[0] for b in BUGS])
def test_each_conv_diagnosis_fires_on_its_bug(key, func, padding, strides):
    cases = square_cases(np.random.default_rng(len(key)), 12, padding, strides)
    report = checks.run_suite(func, "conv2d", cases, verdicts.verdict_conv2d, "test")
    assert not report.passed
    assert report.likely_cause()[0] == key, report.message()
    assert HINTS[key] in report.message()


@pytest.mark.parametrize("suite", ["basic", "same_padding", "strides", "random"])
def test_no_diagnosis_on_a_correct_conv(suite):
    report = checks.run_suite(make_conv(), "conv2d", suite_cases("conv2d", suite, seed=3), verdicts.verdict_conv2d)
    assert report.passed, report.message()
    square = checks.run_suite(make_conv(), "conv2d", square_cases(np.random.default_rng(0), 20, "same", (2, 1)),
                              verdicts.verdict_conv2d)
    assert square.passed, square.message()


def correlate(image, kernel, flip=False, transpose=False, shrink=0):
    k = kernel[::-1, ::-1] if flip else kernel
    k = k.T if transpose else k
    kh, kw = k.shape
    out = np.zeros((image.shape[0] - kh + 1 - shrink, image.shape[1] - kw + 1 - shrink), np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw].astype(np.float64) * k)
    return out


@pytest.mark.parametrize("key,kwargs", [("flipped_kernel", {"flip": True}),
                                        ("kernel_transposed", {"transpose": True}),
                                        ("off_by_one", {"shrink": 1})])
def test_each_correlate_diagnosis_fires_on_its_bug(key, kwargs):
    rng = np.random.default_rng(1)
    cases = [Case((rng.normal(size=(8, 9)).astype(np.float32), rng.normal(size=(3, 3)).astype(np.float32)))
             for _ in range(6)]
    report = checks.run_suite(lambda i, k: correlate(i, k, **kwargs), "correlate2d", cases,
                              verdicts.verdict_correlate2d)
    assert report.likely_cause()[0] == key, report.message()


def test_no_diagnosis_on_a_correct_correlate():
    for suite in ("basic", "random"):
        report = checks.run_suite(correlate, "correlate2d", suite_cases("correlate2d", suite, seed=4),
                                  verdicts.verdict_correlate2d)
        assert report.passed, report.message()


def test_param_count_diagnoses():
    def no_bias(c_in, filters, kernel_size):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        return kh * kw * c_in * filters

    def no_channels(c_in, filters, kernel_size):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        return (kh * kw + 1) * filters

    cases = suite_cases("conv2d_param_count", "basic")
    assert checks.run_suite(no_bias, "p", cases, verdicts.verdict_conv2d_param_count).likely_cause()[0] == \
        "params_no_bias"
    assert checks.run_suite(no_channels, "p", cases, verdicts.verdict_conv2d_param_count).likely_cause()[0] == \
        "conv_params_no_channels"
