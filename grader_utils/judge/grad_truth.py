"""Ground truth of assignment 04 (backpropagation): gradients through the real Keras layers.

Each function runs one image through a real ``keras.layers.Conv2D`` (with the given kernel set as its
weights), ``MaxPooling2D`` or ``AveragePooling2D`` under ``tf.GradientTape`` and returns the gradient
of ``sum(output * dout)``: what backpropagation hands to the layer below when ``dout`` is the
gradient of the loss with respect to the layer's output. Layouts (no batch axis, Keras'
``channels_last``)::

    x:      (H, W, C_in)               dx:      like x
    kernel: (kh, kw, C_in, C_out)      dkernel: like kernel
    dout:   (H_out, W_out, C_out)      dbias:   (C_out,)

What TensorFlow does where the definitions leave a choice (tests/test_grad_truth.py checks both):

- **Ties in max pooling**: the whole gradient of a window goes to ONE input, the first largest value
  of the window in row-major order (the smallest row, then the smallest column); the other tied
  values get nothing from that window. Overlapping windows add up (an input can be the first
  maximum of several windows).
- **Average pooling with 'same' padding**: a window that hangs over the border divides by the number
  of *input* values inside it, never by the full pool size, so each of those inputs gets
  ``dout / count``; padding is not counted.

The layers run in float64 and the gradients are returned as float32 (the dtype the course's inputs
have): float64 is the exact version of the float32 computation (tests/test_grad_truth.py checks that
the float32 layers agree within the comparator's tolerance), and TensorFlow's float32 Conv2D kernel
gradient (oneDNN) can kill the process on some geometries (measured: a bus error for a 1x1 kernel at
stride 2 on a 128x128 input), which the grading process must never risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..quiet import quiet_tensorflow, silenced_stderr
from .shapes import IntPair, as_pair, check_padding
from .truth import _memo

__all__ = ["conv2d_backward", "pool2d_backward", "max_pool2d_backward", "average_pool2d_backward"]

#: the dtype the layers compute in (see the module's docstring)
_DTYPE = "float64"


def _gradients(layer: Any, x: np.ndarray, dout: np.ndarray, weights: tuple[Any, ...] = ()) -> list[np.ndarray]:
    """Gradients of ``sum(layer(x) * dout)`` with respect to ``x`` and each of ``weights``.

    x: (H, W, C) and dout: the layer's output shape, without the batch axis. Raises ``ValueError``
    when ``dout`` does not have the shape of the layer's output."""
    import tensorflow as tf

    with silenced_stderr():
        xt = tf.constant(np.asarray(x, dtype=np.float64)[None])
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = layer(xt)
            shape = tuple(int(d) for d in out.shape[1:])
            if shape != dout.shape:
                raise ValueError(f"dout has shape {dout.shape}; the layer's output has shape {shape}")
            loss = tf.reduce_sum(out * tf.constant(np.asarray(dout, dtype=np.float64)[None]))
        grads = tape.gradient(loss, [xt, *weights])
    return [np.asarray(g.numpy(), dtype=np.float32) for g in grads]


@_memo
def conv2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    kernel: np.ndarray,
    strides: int | IntPair = (1, 1),
    padding: str = "valid",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dkernel, dbias)`` of ``keras.layers.Conv2D`` (no activation) with weights ``kernel``.

    dout: (H_out, W_out, C_out); x: (H, W, C_in); kernel: (kh, kw, C_in, C_out). Returns dx
    (H, W, C_in), dkernel (kh, kw, C_in, C_out) and dbias (C_out,), float32. The bias does not enter
    any gradient (the layer's bias is set to zeros). Raises ``ValueError`` for an empty output or a
    ``dout`` of the wrong shape, as Keras does."""
    keras = quiet_tensorflow()
    kernel = np.asarray(kernel, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    kh, kw, c_in, c_out = kernel.shape
    if x.ndim != 3 or x.shape[2] != c_in:
        raise ValueError(f"x must have shape (H, W, {c_in}), not {x.shape}")
    with silenced_stderr():
        layer = keras.layers.Conv2D(
            c_out, (kh, kw), strides=as_pair(strides), padding=check_padding(padding), dtype=_DTYPE
        )
        layer.build((None, *x.shape))
        layer.set_weights([kernel, np.zeros(c_out)])
    dx, dkernel, dbias = _gradients(layer, x, np.asarray(dout), (layer.kernel, layer.bias))
    return dx[0], dkernel, dbias


@_memo
def pool2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    kind: str,
    pool_size: int | IntPair,
    strides: int | IntPair | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """``dx`` of ``MaxPooling2D`` (``kind="max"``) or ``AveragePooling2D`` (``"average"``).

    dout: (H_out, W_out, C); x: (H, W, C). Returns dx (H, W, C) float32. ``strides=None`` means
    ``pool_size``, as in Keras. Raises ``ValueError`` for an empty output or a ``dout`` of the wrong
    shape."""
    keras = quiet_tensorflow()
    classes = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
    if kind not in classes:
        raise ValueError(f"kind must be 'max' or 'average', not {kind!r}")
    layer = classes[kind](
        as_pair(pool_size),
        strides=None if strides is None else as_pair(strides),
        padding=check_padding(padding),
        dtype=_DTYPE,
    )
    (dx,) = _gradients(layer, np.asarray(x), np.asarray(dout))
    return dx[0]


def max_pool2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    pool_size: int | IntPair,
    strides: int | IntPair | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """``dx`` of ``keras.layers.MaxPooling2D``: dout (H_out, W_out, C), x (H, W, C) -> (H, W, C)."""
    return pool2d_backward(dout, x, "max", pool_size, strides, padding)


def average_pool2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    pool_size: int | IntPair,
    strides: int | IntPair | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """``dx`` of ``keras.layers.AveragePooling2D``: dout (H_out, W_out, C), x (H, W, C) -> (H, W, C)."""
    return pool2d_backward(dout, x, "average", pool_size, strides, padding)
