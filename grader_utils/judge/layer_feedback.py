"""Name the likely mistake behind a wrong answer of assignment 05 (dropout, batch normalisation, im2col, a
layer's cost, the initial loss).

Each diagnosis recomputes the answer as a classic mistake would give it, from TensorFlow's answers
(:mod:`.layer_truth` on changed arguments, or Keras' answer rescaled where the mistake is a factor) and
fires only when its variant differs from Keras' answer *and* equals the student's. No NumPy solution of
an exercise lives here. Layouts as in :mod:`.layer_truth`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..quiet import silenced_stderr
from . import layer_truth, truth
from .compare import ATOL, CONV_ATOL, CONV_RTOL, RTOL
from .grad_feedback import tuple_hint_keys
from .shapes import as_pair, is_int, same_pads

__all__ = [
    "dropout_variants",
    "dropout_hints",
    "batchnorm_variants",
    "batchnorm_hints",
    "im2col_variants",
    "im2col_hints",
    "macs_variants",
    "macs_hints",
    "loss_variants",
    "loss_hints",
]

#: a variant: hint key -> a function computing the mistaken answer (may raise: no diagnosis then)
Variants = dict[str, Callable[[], Any]]


def _numeric(value: Any, shape: tuple[int, ...]) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.shape == shape


def _array_hints(
    got: Any, expected: np.ndarray, variants: Variants, rtol: float = RTOL, atol: float = ATOL
) -> list[str]:
    """Keys whose variant differs from ``expected`` and equals ``got`` (same shape, values within the tolerance)."""
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
        return []
    keys = []
    for key, compute in variants.items():
        try:
            variant = np.asarray(compute())
        except Exception:  # TensorFlow cannot compute this variant here: no diagnosis
            continue
        if variant.shape != got.shape:
            continue
        if variant.shape == expected.shape and np.allclose(variant, expected, rtol=rtol, atol=atol):
            continue
        if np.allclose(got, variant, rtol=rtol, atol=atol):
            keys.append(key)
    return keys


# --- dropout_forward -------------------------------------------------------------------------------


def dropout_variants(x: np.ndarray, rate: float, keep_mask: np.ndarray, training: bool) -> Variants:
    """Hint key -> the output of the mistake. Training: no scaling, scaling by the keep probability instead
    of dividing by it, dividing by the rate, the mask read the wrong way round; inference: a mask or the
    training scale applied, or the old (not inverted) dropout's scaling by the keep probability."""
    keep = np.asarray(keep_mask, bool)
    kept = 1.0 - float(rate)
    if training:
        right = lambda: layer_truth.dropout_forward(x, rate, keep, True)  # noqa: E731
        return {
            "dropout_not_scaled": lambda: right() * np.float32(kept),
            "dropout_scale_multiplied": lambda: right() * np.float32(kept * kept),
            "dropout_divided_by_rate": lambda: right() * np.float32(kept / float(rate)),
            "dropout_mask_inverted": lambda: layer_truth.dropout_forward(x, rate, ~keep, True),
        }
    return {
        "dropout_at_inference": lambda: layer_truth.dropout_forward(x, rate, keep, True),
        "dropout_mask_at_inference": lambda: layer_truth.dropout_forward(x, rate, keep, True) * np.float32(kept),
        "dropout_inference_scaled": lambda: layer_truth.dropout_forward(x, rate, keep, False) * np.float32(kept),
    }


def dropout_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong output of ``dropout_forward(x, rate, keep_mask,
    training=)``."""
    x, rate, keep = args[:3]
    training = bool(kwargs.get("training", args[3] if len(args) > 3 else True))
    return _array_hints(got, expected, dropout_variants(np.asarray(x, np.float32), rate, keep, training))


# --- batchnorm_forward -----------------------------------------------------------------------------

BN_PARTS = ("out", "moving_mean", "moving_var")


def batchnorm_variants(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    momentum: float,
    epsilon: float,
    training: bool,
) -> dict[str, Callable[[], tuple[Any, Any, Any]]]:
    """Hint key -> (out, moving_mean, moving_var) of the mistake (``None`` for a part it leaves right)."""
    bn = layer_truth.batchnorm_forward
    v: dict[str, Callable[[], tuple[Any, Any, Any]]] = {}
    if training:
        n = x.size // x.shape[-1]

        def unbiased() -> tuple[Any, Any, Any]:
            # the batch variance Keras used, from its update, made unbiased: n / (n - 1)
            _, _, new_var = bn(x, gamma, beta, moving_mean, moving_var, momentum, epsilon, True)
            batch_var = (new_var - moving_var * np.float32(momentum)) / np.float32(1 - momentum)
            return None, None, moving_var * np.float32(momentum) + batch_var * np.float32(n / (n - 1) * (1 - momentum))

        def over_batch_only() -> tuple[Any, Any, Any]:
            # statistics per (h, w, c) over the batch axis alone: Keras' layer on x with H*W*C "channels"
            spread = x.shape[1:-1]
            flat = x.reshape(x.shape[0], -1)
            tile = [
                np.broadcast_to(p, (*spread, x.shape[-1])).reshape(-1) for p in (gamma, beta, moving_mean, moving_var)
            ]
            out, _, _ = bn(flat, *tile, momentum, epsilon, True)
            return out.reshape(x.shape), None, None

        if n > 1:
            v["bn_unbiased_variance"] = unbiased
        if x.ndim > 2:
            v["bn_stats_over_batch_only"] = over_batch_only
        v["bn_momentum_swapped"] = lambda: (
            None,
            *bn(x, gamma, beta, moving_mean, moving_var, 1 - momentum, epsilon, True)[1:],
        )
        v["bn_moving_not_updated"] = lambda: (None, moving_mean, moving_var)
        v["bn_moving_stats_in_training"] = lambda: (
            bn(x, gamma, beta, moving_mean, moving_var, momentum, epsilon, False)[0],
            None,
            None,
        )
    else:
        v["bn_batch_stats_at_inference"] = lambda: (
            bn(x, gamma, beta, moving_mean, moving_var, momentum, epsilon, True)[0],
            None,
            None,
        )
        v["bn_moving_updated_at_inference"] = lambda: (
            None,
            *bn(x, gamma, beta, moving_mean, moving_var, momentum, epsilon, True)[1:],
        )
    return v


def batchnorm_hints(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[np.ndarray, ...]
) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``(out, moving_mean, moving_var)`` of
    ``batchnorm_forward``: a key fires when its mistake gives at least one wrong part of the answer."""
    if type(got) is not tuple or len(got) != len(expected):
        return []
    x, gamma, beta, mean, var = (np.asarray(a, np.float32) for a in args[:5])
    momentum = float(kwargs.get("momentum", 0.99))
    epsilon = float(kwargs.get("epsilon", 1e-3))
    training = bool(kwargs.get("training", True))
    variants = batchnorm_variants(x, gamma, beta, mean, var, momentum, epsilon, training)
    return tuple_hint_keys(got, expected, variants, CONV_RTOL, CONV_ATOL)


# --- im2col ----------------------------------------------------------------------------------------


def _patches(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """TensorFlow's patches of x padded by ``pads`` with zeros, 'valid'."""
    return layer_truth.im2col(np.pad(x, (*pads, (0, 0))), k, s, "valid")


def im2col_variants(x: np.ndarray, kernel_size: Any, strides: Any, padding: str) -> Variants:
    """Hint key -> the matrix of the mistake: columns in (channel, kernel row, kernel column) order, the
    matrix transposed, 'same' padding split the wrong way round, strides ignored."""
    k, s = as_pair(kernel_size), as_pair(strides)
    c = x.shape[2]
    right = lambda: layer_truth.im2col(x, k, s, padding)  # noqa: E731
    v: Variants = {
        "im2col_channels_first": lambda: (
            right().reshape(-1, k[0], k[1], c).transpose(0, 3, 1, 2).reshape(-1, k[0] * k[1] * c)
        ),
        "im2col_transposed": lambda: right().T,
    }
    same = padding.lower() == "same"
    pads = same_pads(x.shape, k, s) if same else ((0, 0), (0, 0))
    if same:
        v["same_extra_top_left"] = lambda: _patches(x, k, s, same_pads(x.shape, k, s, swapped=True))
    if s != (1, 1):
        v["strides_ignored"] = lambda: _patches(x, k, (1, 1), pads)
    return v


def im2col_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong matrix of ``im2col(x, kernel_size, strides=, padding=)``."""
    x = np.asarray(args[0], np.float32)
    variants = im2col_variants(x, args[1], kwargs.get("strides", 1), kwargs.get("padding", "valid"))
    return _array_hints(got, expected, variants)


# --- conv2d_macs -----------------------------------------------------------------------------------


def macs_variants(
    input_shape: Sequence[int], filters: int, kernel_size: Any, strides: Any, padding: str
) -> dict[str, Callable[[], int]]:
    """Hint key -> the count of the mistake: the profiler's FLOPs (2 per multiply-add), the bias adds
    counted, the input channels left out, the input's size taken for the output's, the strides ignored."""
    macs = layer_truth.conv2d_macs
    c_in = int(input_shape[2])
    h, w = int(input_shape[0]), int(input_shape[1])

    def output_positions() -> int:
        h_out, w_out, _ = truth.conv2d_output_shape(tuple(input_shape), filters, kernel_size, strides, padding)
        return h_out * w_out

    def at_input_size() -> int:
        return macs(input_shape, filters, kernel_size, strides, padding) // output_positions() * h * w

    return {
        "macs_as_flops": lambda: 2 * macs(input_shape, filters, kernel_size, strides, padding),
        "macs_bias_counted": lambda: (
            macs(input_shape, filters, kernel_size, strides, padding) + output_positions() * int(filters)
        ),
        "macs_no_channels": lambda: macs(input_shape, filters, kernel_size, strides, padding) // c_in,
        "macs_input_size": at_input_size,
        "macs_strides_ignored": lambda: macs(input_shape, filters, kernel_size, 1, padding),
    }


def macs_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: int) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong count of ``conv2d_macs(input_shape, filters,
    kernel_size, strides=, padding=)``."""
    if not is_int(got):
        return []
    input_shape, filters, kernel_size = args[:3]
    variants = macs_variants(
        input_shape, filters, kernel_size, kwargs.get("strides", 1), kwargs.get("padding", "valid")
    )
    keys = []
    with silenced_stderr():
        for key, compute in variants.items():
            try:
                variant = int(compute())
            except Exception:  # TensorFlow cannot count this variant: no diagnosis
                continue
            if variant != int(expected) and variant == int(got):
                keys.append(key)
    return keys


# --- initial_loss ----------------------------------------------------------------------------------


def loss_variants(num_classes: int) -> dict[str, Callable[[], float]]:
    """Hint key -> the value of the mistake, from Keras' loss: log base 10 or 2 instead of the natural
    log, the probability 1 / C instead of its negative log, the log without its minus sign."""
    loss = layer_truth.initial_loss
    return {
        "loss_log10": lambda: loss(num_classes) / math.log(10),
        "loss_log2": lambda: loss(num_classes) / math.log(2),
        "loss_probability": lambda: math.exp(-loss(num_classes)),
        "loss_negative": lambda: -loss(num_classes),
    }


def loss_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: float) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``initial_loss(num_classes)``."""
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        return []
    keys = []
    for key, compute in loss_variants(int(args[0])).items():
        variant = compute()
        if not math.isclose(variant, expected, rel_tol=RTOL, abs_tol=ATOL) and math.isclose(
            float(got), variant, rel_tol=RTOL, abs_tol=ATOL
        ):
            keys.append(key)
    return keys
