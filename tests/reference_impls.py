"""Correct reference answers to the exercises, written from the definitions with plain
NumPy loops (test-only code).

Nothing here imports ``grader_utils`` or Keras: these functions are an independent
statement of what the exercises ask, used to show that a correct answer passes the
checks and as a second opinion on :mod:`grader_utils.truth`.

Conventions (Keras' ``channels_last``): ``x`` is ``(H, W, C)``, a conv kernel is
``(kh, kw, C_in, C_out)``; ``'same'`` padding puts ``floor(total / 2)`` rows/columns
at the top/left and the rest at the bottom/right, as TensorFlow does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

IntPair = tuple[int, int]


def to_pair(value: int | Sequence[int]) -> IntPair:
    """``3 -> (3, 3)``; ``(3, 2)`` or ``[3, 2]`` -> ``(3, 2)``."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def out_length(size: int, k: int, s: int, padding: str) -> int:
    """Output length along one axis: ``ceil(size / s)`` for 'same',
    ``floor((size - k) / s) + 1`` for 'valid'."""
    if padding.lower() == "same":
        return -(-size // s)
    return (size - k) // s + 1


def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding of 'same' along one axis: the least total padding that
    gives ``ceil(size / s)`` outputs, ``floor(total / 2)`` of it before."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


# --- exercises 1 and 4: shapes ---------------------------------------------------------


def conv2d_output_shape(
    input_shape: Sequence[int], filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid"
) -> tuple[int, int, int]:
    h, w = int(input_shape[0]), int(input_shape[1])
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    return out_length(h, kh, sh, padding), out_length(w, kw, sw, padding), int(filters)


def pool2d_output_shape(
    input_shape: Sequence[int], pool_size: Any, strides: Any = None, padding: str = "valid"
) -> tuple[int, int, int]:
    h, w, c = (int(d) for d in input_shape)
    (ph, pw) = to_pair(pool_size)
    (sh, sw) = (ph, pw) if strides is None else to_pair(strides)
    return out_length(h, ph, sh, padding), out_length(w, pw, sw, padding), c


# --- exercises 5 and 6: pooled values --------------------------------------------------


def pool2d(x: np.ndarray, kind: str, pool_size: Any, strides: Any = None, padding: str = "valid") -> np.ndarray:
    """Max or average pooling of one image. Padding never enters a window: a border
    window of 'same' pooling uses only the input values inside it."""
    (ph, pw) = to_pair(pool_size)
    (sh, sw) = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    h_out, w_out = out_length(h, ph, sh, padding), out_length(w, pw, sw, padding)
    top = left = 0
    if padding.lower() == "same":
        top, left = same_pads(h, ph, sh)[0], same_pads(w, pw, sw)[0]
    out = np.empty((h_out, w_out, c), dtype=x.dtype)
    for i in range(h_out):
        r0 = i * sh - top
        for j in range(w_out):
            c0 = j * sw - left
            window = x[max(r0, 0) : min(r0 + ph, h), max(c0, 0) : min(c0 + pw, w)].astype(np.float64)
            if kind == "max":
                out[i, j] = window.max(axis=(0, 1))
            else:
                out[i, j] = window.sum(axis=(0, 1)) / (window.shape[0] * window.shape[1])
    return out


def max_pool2d(x: np.ndarray, pool_size: Any, strides: Any = None, padding: str = "valid") -> np.ndarray:
    return pool2d(x, "max", pool_size, strides, padding)


def average_pool2d(x: np.ndarray, pool_size: Any, strides: Any = None, padding: str = "valid") -> np.ndarray:
    return pool2d(x, "average", pool_size, strides, padding)


# --- convolution (cross-correlation), float64 -------------------------------------------


def conv2d_float64(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> np.ndarray:
    """``out[i, j, o] = bias[o] + sum_{a, b, c} xp[i*sh + a, j*sw + b, c] * kernel[a, b, c, o]``
    where ``xp`` is ``x`` zero-padded as 'same' asks (nothing for 'valid')."""
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    h, w, _ = x.shape
    if padding.lower() == "same":
        x = np.pad(x, (same_pads(h, kh, sh), same_pads(w, kw, sw), (0, 0)))
    h_out, w_out = out_length(h, kh, sh, padding), out_length(w, kw, sw, padding)
    out = np.empty((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = x[i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            for o in range(c_out):
                out[i, j, o] = bias[o] + float(np.sum(patch * kernel[:, :, :, o]))
    return out


def conv2d(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> np.ndarray:
    """The same cross-correlation, vectorized: one step per kernel offset (kh * kw steps), each on
    whole arrays; float64 sums, returned in ``x.dtype``."""
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    h, w, _ = x.shape
    xp = np.asarray(x, dtype=np.float64)
    if padding.lower() == "same":
        xp = np.pad(xp, (same_pads(h, kh, sh), same_pads(w, kw, sw), (0, 0)))
    h_out, w_out = out_length(h, kh, sh, padding), out_length(w, kw, sw, padding)
    out = np.zeros((h_out, w_out, c_out)) + np.asarray(bias, dtype=np.float64)
    k64 = np.asarray(kernel, dtype=np.float64)
    for a in range(kh):
        for b in range(kw):
            patch = xp[a : a + sh * (h_out - 1) + 1 : sh, b : b + sw * (w_out - 1) + 1 : sw, :]
            out += patch @ k64[a, b]
    return out.astype(x.dtype)


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D 'valid' cross-correlation of one channel: ``out[i, j] = sum_{a, b} image[i + a, j + b] * kernel[a, b]``."""
    out = conv2d(image[:, :, None], kernel[:, :, None, None], np.zeros(1), 1, "valid")
    return out[:, :, 0]


def dense_param_count(input_shape: Sequence[int], units: int) -> int:
    """``Dense(units)`` after ``Flatten()``: one weight per input value and unit, one bias per unit."""
    return (math.prod(input_shape) + 1) * int(units)


def conv2d_param_count(in_channels: int, filters: int, kernel_size: Any) -> int:
    """``Conv2D``: ``kh * kw * in_channels`` weights per filter plus one bias."""
    kh, kw = to_pair(kernel_size)
    return (kh * kw * int(in_channels) + 1) * int(filters)


# --- exercise 7: Sequential stacks -------------------------------------------------------


def sequential_output_shapes(
    input_shape: Sequence[int], layers: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[tuple[int, ...]]:
    shape = tuple(int(d) for d in input_shape)
    shapes = []
    for kind, kw in layers:
        if kind == "conv2d":
            shape = conv2d_output_shape(
                shape, kw["filters"], kw["kernel_size"], kw.get("strides", (1, 1)), kw.get("padding", "valid")
            )
        elif kind in ("max_pooling2d", "average_pooling2d"):
            shape = pool2d_output_shape(shape, kw["pool_size"], kw.get("strides"), kw.get("padding", "valid"))
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "reshape":
            target = [int(d) for d in kw["target_shape"]]
            if -1 in target:
                target[target.index(-1)] = math.prod(shape) // -math.prod(target)
            shape = tuple(target)
        elif kind == "dense":
            shape = shape[:-1] + (int(kw["units"]),)
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        shapes.append(shape)
    return shapes


def sequential_param_counts(input_shape: Sequence[int], layers: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
    inputs = [tuple(input_shape)] + sequential_output_shapes(input_shape, layers)[:-1]
    counts = []
    for (kind, kw), shape in zip(layers, inputs):
        if kind == "conv2d":
            kh, kw_ = to_pair(kw["kernel_size"])
            counts.append((kh * kw_ * int(shape[-1]) + 1) * int(kw["filters"]))
        elif kind == "dense":
            counts.append((int(shape[-1]) + 1) * int(kw["units"]))
        else:
            counts.append(0)
    return counts


# --- assignment 03: receptive_field ---------------------------------------------------------


def layer_geometry(kind: str, kw: Mapping[str, Any]) -> tuple[IntPair, IntPair]:
    """(kernel, strides) of a conv/pool spec, with Keras' defaults (pooling strides = pool_size)."""
    if kind == "conv2d":
        return to_pair(kw["kernel_size"]), to_pair(kw.get("strides", 1))
    k = to_pair(kw["pool_size"])
    return k, (k if kw.get("strides") is None else to_pair(kw["strides"]))


def receptive_field(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> IntPair:
    """The closed form, per axis: ``r = 1 + sum over layers of (k_l - 1) * (product of the strides of
    the layers before l)``, i.e. the recurrence ``r += (k - 1) * j; j *= s`` from ``r = j = 1``."""
    size = []
    for axis in (0, 1):
        r, j = 1, 1
        for kind, kw in layers:
            k, s = layer_geometry(kind, kw)
            r += (k[axis] - 1) * j
            j *= s[axis]
        size.append(r)
    return size[0], size[1]


#: exercise name -> correct implementation
CORRECT = {
    "conv2d_output_shape": conv2d_output_shape,
    "pool2d_output_shape": pool2d_output_shape,
    "max_pool2d": max_pool2d,
    "average_pool2d": average_pool2d,
    "sequential_output_shapes": sequential_output_shapes,
    "sequential_param_counts": sequential_param_counts,
    "dense_param_count": dense_param_count,
    "conv2d_param_count": conv2d_param_count,
    "correlate2d": correlate2d,
    "conv2d": conv2d,
    "receptive_field": receptive_field,
}
