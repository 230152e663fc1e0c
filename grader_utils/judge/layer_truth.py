"""Ground truth of assignment 05 (training a CNN well): dropout, batch normalisation, im2col, a layer's cost
and the loss of an untrained classifier, each from TensorFlow/Keras.

Layouts (Keras' ``channels_last``)::

    dropout_forward:   x any shape, keep_mask: bool, like x              -> like x, float32
    batchnorm_forward: x (N, H, W, C); gamma, beta, moving_mean, moving_var (C,)
                       -> (out like x, new moving_mean (C,), new moving_var (C,)), float32
    im2col:            x (H, W, C) -> (H_out * W_out, kh * kw * C), float32: one row per output
                       position (row-major), columns in the order (kernel row, kernel column, channel)
    conv2d_macs:       input_shape (H, W, C_in) -> int
    initial_loss:      num_classes -> float

What Keras does, and how each answer is asked of it (tests/test_layer_truth.py checks each against the
layers run in the test):

- **Dropout** (``keras.layers.Dropout``) draws its own random mask, so the mask is the case's: the truth
  keeps the values where ``keep_mask`` is True and scales them by the factor Keras' layer applies in
  training, *measured* on the layer (a Dropout of ``rate`` run on ones: every kept value is that factor,
  ``1 / (1 - rate)``, "inverted dropout"), and dropped values are 0. At inference (``training=False``) the
  answer is the layer's own output: the input unchanged. ``rate`` is in (0, 1): Keras' Dropout of rate 0
  returns its input whatever the mask.
- **BatchNormalization** (``axis=-1``): a real layer with ``[gamma, beta, moving_mean, moving_var]`` as its
  weights, called in the mode asked; its moving statistics are read after the call. In training it
  normalises with the batch's mean and *biased* variance over (N, H, W) and updates
  ``moving = moving * momentum + batch * (1 - momentum)`` (with the same biased variance); at inference it
  normalises with the moving statistics and leaves them unchanged.
- **im2col**: ``tf.image.extract_patches`` with the kernel's size as the patch size and the strides and
  padding of the convolution ('same' pads as Conv2D does).
- **conv2d_macs**: TensorFlow's profiler counts the floating-point operations of the graph of one
  ``Conv2D`` without bias; it counts a multiply-add as 2 operations, so the multiply-adds are half its
  count. :func:`conv2d_flops` gives the profiler's counts per op of a layer with its bias (the bias adds
  are one operation per output value).
- **initial_loss**: Keras' ``SparseCategoricalCrossentropy(from_logits=True)`` of all-zero logits (the
  uniform prediction of an untrained softmax classifier): ln(num_classes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ..quiet import quiet_tensorflow, silenced_stderr
from .shapes import IntPair, as_pair, check_padding
from .truth import _memo

__all__ = [
    "dropout_scale",
    "dropout_forward",
    "batchnorm_forward",
    "im2col",
    "conv2d_flops",
    "conv2d_macs",
    "initial_loss",
]


@functools.lru_cache(maxsize=256)
def dropout_scale(rate: float) -> float:
    """The factor ``keras.layers.Dropout(rate)`` multiplies kept values by in training, measured on the
    layer (float32; ``1 / (1 - rate)``). Raises ``ValueError`` unless 0 < rate < 1."""
    if not 0.0 < float(rate) < 1.0:
        raise ValueError(f"rate must be in (0, 1), not {rate!r}")
    keras = quiet_tensorflow()
    with silenced_stderr():
        layer = keras.layers.Dropout(float(rate), seed=0)
        out = np.asarray(layer(np.ones((4096,), np.float32), training=True))
    kept = np.unique(out[out != 0])
    if kept.size != 1:
        raise ValueError(f"Keras' Dropout kept values {kept[:5]} of ones; one scale expected")
    return float(kept[0])


@_memo
def dropout_forward(x: np.ndarray, rate: float, keep_mask: np.ndarray, training: bool = True) -> np.ndarray:
    """Keras' Dropout with the mask fixed: x and keep_mask (bool) of one shape -> float32 like x.

    training: ``x * keep_mask * scale`` with the layer's scale (:func:`dropout_scale`); inference: the
    layer's output (x unchanged)."""
    x = np.asarray(x, np.float32)
    keep_mask = np.asarray(keep_mask)
    if keep_mask.shape != x.shape or keep_mask.dtype != bool:
        raise ValueError(f"keep_mask must be a bool array of shape {x.shape}")
    if not training:
        keras = quiet_tensorflow()
        with silenced_stderr():
            return np.asarray(keras.layers.Dropout(float(rate))(x, training=False), np.float32)
    scale = np.float32(dropout_scale(rate))
    return np.where(keep_mask, x * scale, np.float32(0)).astype(np.float32)


@_memo
def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    training: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(out, new_moving_mean, new_moving_var)`` of ``keras.layers.BatchNormalization(momentum=, epsilon=)``.

    x: (N, H, W, C) (any rank >= 2: the statistics are per last axis); gamma, beta, moving_mean,
    moving_var: (C,). float32."""
    keras = quiet_tensorflow()
    x = np.asarray(x, np.float32)
    weights = [np.asarray(w, np.float32) for w in (gamma, beta, moving_mean, moving_var)]
    if x.ndim < 2 or any(w.shape != (x.shape[-1],) for w in weights):
        raise ValueError(f"gamma, beta and the moving statistics must have shape ({x.shape[-1]},)")
    with silenced_stderr():
        layer = keras.layers.BatchNormalization(momentum=float(momentum), epsilon=float(epsilon))
        layer.build(x.shape)
        layer.set_weights(weights)
        out = np.asarray(layer(x, training=bool(training)), np.float32)
        mean = np.asarray(layer.moving_mean.numpy(), np.float32)
        var = np.asarray(layer.moving_variance.numpy(), np.float32)
    return out, mean, var


@_memo
def im2col(x: np.ndarray, kernel_size: int | IntPair, strides: int | IntPair = 1, padding: str = "valid") -> np.ndarray:
    """The patches of ``tf.image.extract_patches`` as a matrix: x (H, W, C) -> (H_out * W_out, kh * kw * C).

    Row ``i * W_out + j`` is the window of output position (i, j); its columns run over kernel rows, then
    kernel columns, then channels. Raises ``ValueError`` for an empty output."""
    import tensorflow as tf

    quiet_tensorflow()
    x = np.asarray(x, np.float32)
    (kh, kw), (sh, sw) = as_pair(kernel_size), as_pair(strides)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (H, W, C), not {x.shape}")
    with silenced_stderr():
        patches = tf.image.extract_patches(
            x[None], [1, kh, kw, 1], [1, sh, sw, 1], [1, 1, 1, 1], check_padding(padding).upper()
        ).numpy()[0]
    if patches.size == 0:
        raise ValueError("the window does not fit in the input")
    return patches.reshape(-1, kh * kw * x.shape[2]).astype(np.float32)


@functools.lru_cache(maxsize=4096)
def _profile(
    input_shape: tuple[int, ...], filters: int, kernel_size: IntPair, strides: IntPair, padding: str, use_bias: bool
) -> tuple[tuple[str, int], ...]:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    keras = quiet_tensorflow()
    with silenced_stderr():
        layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)
        function = tf.function(lambda t: layer(t))
        concrete = function.get_concrete_function(tf.TensorSpec((1, *input_shape), tf.float32))
        graph = convert_variables_to_constants_v2(concrete).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        profile = tf.compat.v1.profiler.profile(graph=graph, options=options)
    return tuple(sorted((child.name.rsplit("/", 1)[-1], int(child.total_float_ops)) for child in profile.children))


def conv2d_flops(
    input_shape: Sequence[int],
    filters: int,
    kernel_size: int | IntPair,
    strides: int | IntPair = 1,
    padding: str = "valid",
    use_bias: bool = True,
) -> dict[str, int]:
    """TensorFlow profiler's floating-point operations of one ``Conv2D`` on one image, per op of its graph:
    ``{"convolution": ..., "BiasAdd": ...}`` (the bias only with ``use_bias``). input_shape (H, W, C_in)."""
    shape = tuple(int(v) for v in input_shape)
    return dict(_profile(shape, int(filters), as_pair(kernel_size), as_pair(strides), check_padding(padding), use_bias))


def conv2d_macs(
    input_shape: Sequence[int],
    filters: int,
    kernel_size: int | IntPair,
    strides: int | IntPair = 1,
    padding: str = "valid",
) -> int:
    """Multiply-adds of one ``Conv2D`` (no bias) on one image of input_shape (H, W, C_in): half the
    floating-point operations TensorFlow's profiler counts for the layer's graph."""
    flops = sum(conv2d_flops(input_shape, filters, kernel_size, strides, padding, use_bias=False).values())
    if flops <= 0 or flops % 2:
        raise ValueError(f"TensorFlow counts {flops} operations for this layer")
    return flops // 2


@functools.lru_cache(maxsize=1024)
def initial_loss(num_classes: int) -> float:
    """Keras' sparse categorical cross-entropy of all-zero logits over ``num_classes`` classes (float32, as a
    Python float): the loss of an untrained classifier that predicts every class alike."""
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, not {num_classes!r}")
    keras = quiet_tensorflow()
    with silenced_stderr():
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        value = loss(np.zeros((1,), np.int32), np.zeros((1, int(num_classes)), np.float32))
    return float(np.float32(value))
