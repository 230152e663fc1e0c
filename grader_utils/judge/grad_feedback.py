"""Name the likely mistake behind a wrong gradient of assignment 04 (backpropagation).

Each diagnosis recomputes the answer as a classic mistake would give it, with TensorFlow: the
gradients of the real layers (:mod:`.grad_truth`) on modified inputs (a flipped kernel, an input
padded on the wrong side, a ``dout`` placed at stride 1), or TensorFlow's own window scatter (the
gradient of ``tf.image.extract_patches``) for "every tied maximum gets the gradient". No NumPy
solution of an exercise lives here. A diagnosis fires only when its variant differs from Keras'
answer *and* equals the student's (part by part for ``(dx, dkernel, dbias)``).

Layouts as in :mod:`.grad_truth`: ``x`` (H, W, C_in), ``kernel`` (kh, kw, C_in, C_out), ``dout`` the
layer's output shape; 'same' padding amounts from :func:`.shapes.same_pads` (Keras' split,
checked against Keras in tests/test_figures.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..quiet import silenced_stderr
from . import grad_truth, truth
from .compare import ATOL, CONV_ATOL, CONV_RTOL, RTOL
from .shapes import as_pair, same_pads

__all__ = ["COMBINED", "conv_backward_hints", "pool_backward_hints", "conv_variants", "pool_variants"]

Pads = tuple[tuple[int, int], tuple[int, int]]
#: a variant: hint key -> a function computing the mistaken answer (may raise: no diagnosis then)
Variants = dict[str, Callable[[], Any]]


def _pads(x_shape: Sequence[int], k: tuple[int, int], s: tuple[int, int], padding: str, swapped: bool = False) -> Pads:
    """((top, bottom), (left, right)): Keras' 'same' split, or the mistake that swaps it; zeros for 'valid'."""
    if padding.lower() != "same":
        return (0, 0), (0, 0)
    return same_pads(x_shape, k, s, swapped)


def _pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    return np.pad(np.asarray(x, np.float64), (*pads, (0, 0)), constant_values=value)


def _crop(g: np.ndarray, pads: Pads, shape: Sequence[int]) -> np.ndarray:
    (top, _), (left, _) = pads
    return g[top : top + shape[0], left : left + shape[1]]


def _embedded(dout: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``dout`` at the top-left of a zero array of ``shape`` (the output of windows moved by 1)."""
    out = np.zeros(shape, np.float64)
    out[: dout.shape[0], : dout.shape[1]] = dout
    return out


def _stride1_shape(xp: np.ndarray, k: tuple[int, int], c: int) -> tuple[int, int, int]:
    return xp.shape[0] - k[0] + 1, xp.shape[1] - k[1] + 1, c


# --- conv2d_backward ------------------------------------------------------------------


def conv_variants(
    dout: np.ndarray, x: np.ndarray, kernel: np.ndarray, strides: Any, padding: str
) -> dict[str, Callable[[], tuple[Any, Any, Any]]]:
    """Hint key -> the (dx, dkernel, dbias) of the mistake (``None`` for a part the mistake leaves right)."""
    k, s = tuple(kernel.shape[:2]), as_pair(strides)
    backward = grad_truth.conv2d_backward
    v: dict[str, Callable[[], tuple[Any, Any, Any]]] = {
        "grad_kernel_not_flipped": lambda: (backward(dout, x, kernel[::-1, ::-1], s, padding)[0], None, None),
    }
    if dout.shape[0] * dout.shape[1] > 1:
        v["grad_bias_mean"] = lambda: (
            None,
            None,
            backward(dout, x, kernel, s, padding)[2] / np.float32(dout.shape[0] * dout.shape[1]),
        )
    if padding.lower() == "same":
        swapped = _pads(x.shape, k, s, padding, swapped=True)

        def pads_swapped() -> tuple[Any, Any, Any]:
            dx, dk, _ = backward(dout, _pad(x, swapped).astype(np.float32), kernel, s, "valid")
            return _crop(dx, swapped, x.shape), dk, None

        v["grad_pads_swapped"] = pads_swapped
    if s != (1, 1):
        pads = _pads(x.shape, k, s, padding)

        def strides_ignored() -> tuple[Any, Any, Any]:
            xp = _pad(x, pads).astype(np.float32)
            d = _embedded(dout, _stride1_shape(xp, k, dout.shape[2])).astype(np.float32)
            dx, dk, _ = backward(d, xp, kernel, (1, 1), "valid")
            return _crop(dx, pads, x.shape), dk, None

        v["grad_strides_ignored"] = strides_ignored
    return v


def conv_backward_hints(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[np.ndarray, ...]
) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``(dx, dkernel, dbias)`` of
    ``conv2d_backward(dout, x, kernel, strides=, padding=)``: a key fires when the mistake gives at least
    one wrong part of the answer (where it differs from Keras' part)."""
    if type(got) is not tuple or len(got) != len(expected):
        return []
    dout, x, kernel = (np.asarray(a, np.float32) for a in args[:3])
    variants = conv_variants(dout, x, kernel, kwargs.get("strides", (1, 1)), kwargs.get("padding", "valid"))
    return tuple_hint_keys(got, expected, variants, CONV_RTOL, CONV_ATOL)


def tuple_hint_keys(
    got: tuple, expected: tuple[np.ndarray, ...], variants: Mapping[str, Callable[[], tuple]], rtol: float, atol: float
) -> list[str]:
    """The keys of ``variants`` (each computes a mistake's answer, a tuple with None for the parts it leaves alone)
    that explain at least one wrong part of ``got``: the part differs from ``expected`` and equals the mistake's.
    A variant TensorFlow cannot compute here explains nothing."""
    wrong = [
        i
        for i, (g, e) in enumerate(zip(got, expected))
        if not (_numeric(g, e.shape) and np.allclose(g, e, rtol=rtol, atol=atol))
    ]
    keys = []
    for key, compute in variants.items():
        try:
            parts = compute()
        except Exception:  # TensorFlow cannot compute this variant here: no diagnosis
            continue
        explained = [
            i
            for i in wrong
            if parts[i] is not None
            and _numeric(got[i], expected[i].shape)
            and not np.allclose(parts[i], expected[i], rtol=rtol, atol=atol)
            and np.allclose(got[i], parts[i], rtol=rtol, atol=atol)
        ]
        if explained:
            keys.append(key)
    return keys


def _numeric(value: Any, shape: tuple[int, ...]) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.shape == shape


# --- max_pool2d_backward, average_pool2d_backward ----------------------------------------


def _every_tie(dout: np.ndarray, x: np.ndarray, k: tuple[int, int], s: tuple[int, int], pads: Pads) -> np.ndarray:
    """dx when every maximum of a window (ties included) gets the window's gradient: TensorFlow's
    ``extract_patches`` gathers the windows and its gradient scatters the weights back."""
    import tensorflow as tf

    xp = _pad(x, pads, -np.inf)
    sizes, steps = [1, *k, 1], [1, *s, 1]
    with silenced_stderr():
        patches = tf.image.extract_patches(xp[None], sizes, steps, [1, 1, 1, 1], "VALID").numpy()[0]
        h_out, w_out = patches.shape[:2]
        windows = patches.reshape(h_out, w_out, k[0] * k[1], x.shape[2])
        largest = windows.max(axis=2, keepdims=True)
        weights = ((windows == largest) * np.asarray(dout, np.float64)[:, :, None, :]).reshape(patches.shape)
        z = tf.zeros((1, *xp.shape), tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(z)
            total = tf.reduce_sum(tf.image.extract_patches(z, sizes, steps, [1, 1, 1, 1], "VALID") * weights[None])
        grad = tape.gradient(total, z).numpy()[0]
    return _crop(grad, pads, x.shape).astype(np.float32)


def _on_padded(
    kind: str, dout: np.ndarray, x: np.ndarray, k: tuple[int, int], s: tuple[int, int], pads: Pads, count_pads: bool
) -> np.ndarray:
    """dx of pooling run 'valid' with strides ``s`` on ``x`` padded by ``pads`` (-inf for max; zeros for
    average, counted in the divisor only with ``count_pads``), ``dout`` at the top-left of the output."""
    xp = _pad(x, pads, -np.inf if kind == "max" else 0.0)
    if any(kk > n for kk, n in zip(k, xp.shape[:2])):
        raise ValueError("a window larger than its input")  # never asked of TensorFlow
    shape = truth.pool2d_output_shape(xp.shape, k, s, "valid")
    d = _embedded(dout, shape)
    if kind == "average" and not count_pads:  # dout / (values inside) = (dout / share of real values) / window size
        d = d / truth.average_pool2d(_pad(np.ones_like(x), pads).astype(np.float32), k, s, "valid")
    dx = grad_truth.pool2d_backward(d.astype(np.float32), xp.astype(np.float32), kind, k, s, "valid")
    return _crop(dx, pads, x.shape)


#: a variant that makes two mistakes at once -> the keys of both
COMBINED = {"full_window_pads_swapped": ["grad_average_full_window", "grad_pads_swapped"]}


def pool_variants(kind: str, dout: np.ndarray, x: np.ndarray, pool_size: Any, strides: Any, padding: str) -> Variants:
    """Hint key (or a key of :data:`COMBINED`) -> the dx of the mistake, for ``kind`` 'max' or 'average'."""
    k = as_pair(pool_size)
    s = k if strides is None else as_pair(strides)
    pads = _pads(x.shape, k, s, padding)
    v: Variants = {}
    if kind == "max":
        v["grad_ties_counted_twice"] = lambda: _every_tie(dout, x, k, s, pads)
    if padding.lower() == "same":
        swapped = _pads(x.shape, k, s, padding, swapped=True)
        v["grad_pads_swapped"] = lambda: _on_padded(kind, dout, x, k, s, swapped, False)
        if kind == "average":
            v["grad_average_full_window"] = lambda: _on_padded(kind, dout, x, k, s, pads, True)
            v["full_window_pads_swapped"] = lambda: _on_padded(kind, dout, x, k, s, swapped, True)
    if s != (1, 1):
        v["grad_strides_ignored"] = lambda: _on_padded(kind, dout, x, k, (1, 1), pads, False)
    return v


def pool_backward_hints(
    kind: str, args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray
) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``dx`` of ``max_pool2d_backward`` (kind 'max') or
    ``average_pool2d_backward`` ('average'); args/kwargs: the call ``(dout, x, pool_size, strides=, padding=)``."""
    if not _numeric(got, expected.shape):
        return []
    dout, x = (np.asarray(a, np.float32) for a in args[:2])
    variants = pool_variants(kind, dout, x, args[2], kwargs.get("strides"), kwargs.get("padding", "valid"))
    keys = []
    for key, compute in variants.items():
        try:
            variant = compute()
        except Exception:  # TensorFlow cannot compute this variant here: no diagnosis
            continue
        if not np.allclose(variant, expected, rtol=RTOL, atol=ATOL) and np.allclose(got, variant, rtol=RTOL, atol=ATOL):
            keys += [k for k in COMBINED.get(key, [key]) if k not in keys]
    return keys
