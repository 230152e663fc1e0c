"""Reference answers to assignment 05 (training a CNN well), written from the definitions in plain NumPy
(test-only code), and the classic wrong answers the feedback must recognise.

Nothing here imports ``grader_utils`` or Keras: an independent statement of what the exercises ask. A
wrong version takes the same arguments and changes one thing (its name says which); each is built from
a switch of the right one.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from reference_impls import out_length, same_pads, to_pair

# --- dropout_forward -------------------------------------------------------------------------------


def dropout_forward(x, rate, keep_mask, training=True, *, mistake=None):
    x = np.asarray(x)
    if not training:
        if mistake == "at_inference":
            return (x * keep_mask / (1 - rate)).astype(x.dtype)
        if mistake == "mask_at_inference":
            return (x * keep_mask).astype(x.dtype)
        if mistake == "inference_scaled":
            return (x * (1 - rate)).astype(x.dtype)
        return x.copy()
    mask = ~keep_mask if mistake == "mask_inverted" else keep_mask
    scale = {
        "not_scaled": 1.0,
        "scale_multiplied": 1 - rate,
        "divided_by_rate": 1 / rate,
    }.get(mistake, 1 / (1 - rate))
    return (x * mask * scale).astype(x.dtype)


# --- batchnorm_forward -----------------------------------------------------------------------------


def batchnorm_forward(
    x, gamma, beta, moving_mean, moving_var, momentum=0.99, epsilon=1e-3, training=True, *, mistake=None
):
    x = np.asarray(x)
    axes = tuple(range(x.ndim - 1))
    if training and mistake != "moving_stats_in_training":
        if mistake == "stats_over_batch_only":
            mean, var = x.mean(axis=0), x.var(axis=0)
        else:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = moving_mean, moving_var
    if not training and mistake == "batch_stats_at_inference":
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    out = (gamma * (x - mean) / np.sqrt(var + epsilon) + beta).astype(x.dtype)
    update = training or mistake == "moving_updated_at_inference"
    if not update or mistake == "moving_not_updated":
        return out, moving_mean.copy(), moving_var.copy()
    batch_mean, batch_var = x.mean(axis=axes), x.var(axis=axes, ddof=1 if mistake == "unbiased_variance" else 0)
    m = 1 - momentum if mistake == "momentum_swapped" else momentum
    new_mean = (moving_mean * m + batch_mean * (1 - m)).astype(x.dtype)
    new_var = (moving_var * m + batch_var * (1 - m)).astype(x.dtype)
    return out, new_mean, new_var


def batchnorm_forward_loops(x, gamma, beta, moving_mean, moving_var, momentum=0.99, epsilon=1e-3, training=True):
    """Channel by channel, in float64, summing by hand."""
    x64 = np.asarray(x, np.float64)
    c = x64.shape[-1]
    out = np.empty_like(x64)
    new_mean, new_var = np.array(moving_mean, np.float64), np.array(moving_var, np.float64)
    for ch in range(c):
        values = x64[..., ch].reshape(-1)
        mu = sum(values) / len(values)
        var = sum((v - mu) ** 2 for v in values) / len(values)
        if training:
            new_mean[ch] = moving_mean[ch] * momentum + mu * (1 - momentum)
            new_var[ch] = moving_var[ch] * momentum + var * (1 - momentum)
        else:
            mu, var = float(moving_mean[ch]), float(moving_var[ch])
        out[..., ch] = gamma[ch] * (x64[..., ch] - mu) / math.sqrt(var + epsilon) + beta[ch]
    dtype = np.asarray(x).dtype
    return out.astype(dtype), new_mean.astype(dtype), new_var.astype(dtype)


# --- im2col and conv2d_im2col ----------------------------------------------------------------------


def im2col(x, kernel_size, strides=(1, 1), padding="valid", *, mistake=None):
    x = np.asarray(x)
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    if mistake == "strides_ignored":
        sh, sw = 1, 1
    h, w, c = x.shape
    if padding.lower() == "same":
        (top, bottom), (left, right) = (
            same_pads(n, k, s) for n, k, s in ((h, kh, to_pair(strides)[0]), (w, kw, to_pair(strides)[1]))
        )
        if mistake == "pads_swapped":
            top, bottom, left, right = bottom, top, right, left
        x = np.pad(x, ((top, bottom), (left, right), (0, 0)))
        h_out = (x.shape[0] - kh) // sh + 1
        w_out = (x.shape[1] - kw) // sw + 1
    else:
        h_out, w_out = out_length(h, kh, sh, "valid"), out_length(w, kw, sw, "valid")
    rows = []
    for i in range(h_out):
        for j in range(w_out):
            window = x[i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            rows.append(window.transpose(2, 0, 1).reshape(-1) if mistake == "channels_first" else window.reshape(-1))
    cols = np.array(rows, dtype=x.dtype).reshape(h_out * w_out, kh * kw * c)
    return cols.T.copy() if mistake == "transposed" else cols


def im2col_strided(x, kernel_size, strides=(1, 1), padding="valid"):
    """Vectorised with sliding_window_view."""
    x = np.asarray(x)
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    if padding.lower() == "same":
        rows, cols = same_pads(x.shape[0], kh, sh), same_pads(x.shape[1], kw, sw)
        x = np.pad(x, (rows, cols, (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]
    # windows: (H_out, W_out, C, kh, kw) -> (H_out * W_out, kh * kw * C)
    return windows.transpose(0, 1, 3, 4, 2).reshape(-1, kh * kw * x.shape[2]).copy()


def conv2d_im2col(x, kernel, bias, strides=(1, 1), padding="valid"):
    x = np.asarray(x)
    kh, kw, c_in, c_out = kernel.shape
    cols = im2col(x, (kh, kw), strides, padding)
    (sh, sw) = to_pair(strides)
    h_out, w_out = (out_length(n, k, s, padding) for n, k, s in ((x.shape[0], kh, sh), (x.shape[1], kw, sw)))
    return (cols @ kernel.reshape(-1, c_out) + bias).reshape(h_out, w_out, c_out).astype(x.dtype)


# --- conv2d_macs and initial_loss ------------------------------------------------------------------


def conv2d_macs(input_shape, filters, kernel_size, strides=1, padding="valid", *, mistake=None):
    h, w, c_in = input_shape
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    if mistake == "strides_ignored":
        sh, sw = 1, 1
    h_out, w_out = out_length(h, kh, sh, padding), out_length(w, kw, sw, padding)
    if mistake == "input_size":
        h_out, w_out = h, w
    macs = h_out * w_out * kh * kw * (1 if mistake == "no_channels" else c_in) * filters
    if mistake == "as_flops":
        return 2 * macs
    if mistake == "bias_counted":
        return macs + h_out * w_out * filters
    return macs


def initial_loss(num_classes, *, mistake=None):
    return {
        "log10": math.log10(num_classes),
        "log2": math.log2(num_classes),
        "probability": 1 / num_classes,
        "negative": -math.log(num_classes),
    }.get(mistake, math.log(num_classes))


#: exercise -> right answers
CORRECT = {
    "dropout_forward": [dropout_forward],
    "batchnorm_forward": [batchnorm_forward, batchnorm_forward_loops],
    "im2col": [im2col, im2col_strided],
    "conv2d_im2col": [conv2d_im2col],
    "conv2d_macs": [conv2d_macs],
    "initial_loss": [initial_loss, lambda num_classes: float(np.log(np.float32(num_classes)))],
}


def _wrong(func, names):
    return {name: partial(func, mistake=name) for name in names}


#: exercise -> {mistake: a wrong answer making it}
WRONG = {
    "dropout_forward": _wrong(
        dropout_forward,
        [
            "not_scaled",
            "scale_multiplied",
            "divided_by_rate",
            "mask_inverted",
            "at_inference",
            "mask_at_inference",
            "inference_scaled",
        ],
    ),
    "batchnorm_forward": _wrong(
        batchnorm_forward,
        [
            "unbiased_variance",
            "stats_over_batch_only",
            "momentum_swapped",
            "moving_not_updated",
            "moving_stats_in_training",
            "batch_stats_at_inference",
            "moving_updated_at_inference",
        ],
    ),
    "im2col": _wrong(im2col, ["channels_first", "transposed", "pads_swapped", "strides_ignored"]),
    "conv2d_macs": _wrong(conv2d_macs, ["as_flops", "bias_counted", "no_channels", "input_size", "strides_ignored"]),
    "initial_loss": _wrong(initial_loss, ["log10", "log2", "probability", "negative"]),
}
