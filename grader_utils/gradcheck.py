"""A numerical gradient check for the students' backward passes (notebook 04).

This is notebook API, not judging: NumPy only, and importable in a graded kernel. Use it in float64:
with float32 the central difference loses most of its digits to rounding.

Example: the gradient of ``f(x) = sum(conv2d(x, k, b) * dout)`` with respect to ``x`` is the ``dx`` that
``conv2d_backward(dout, x, k, ...)`` must return, so ``relative_error(dx, numerical_gradient(f, x))`` should
be tiny (below ``1e-6``) when ``dx`` is right.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The gradient of a scalar function ``f`` at ``x``, by central differences over every entry.

    x: an array of any shape (e.g. an image ``(H, W, C)`` or a kernel ``(kh, kw, C_in, C_out)``); ``f`` is
    called with a float64 array of that shape and must return one number. Returns a float64 array of the
    shape of ``x`` whose entry ``idx`` is ``(f(x + eps e_idx) - f(x - eps e_idx)) / (2 eps)``, where ``e_idx``
    is 1 at ``idx`` and 0 elsewhere. ``x`` itself is not changed (``f`` gets a copy). Costs ``2 * x.size``
    calls of ``f``.
    """
    point = np.array(x, dtype=np.float64)  # a copy, in float64
    grad = np.zeros_like(point)
    for idx in np.ndindex(point.shape):
        saved = point[idx]
        point[idx] = saved + eps
        above = float(f(point))
        point[idx] = saved - eps
        below = float(f(point))
        point[idx] = saved
        grad[idx] = (above - below) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """The largest relative difference between two arrays of the same shape (any shape).

    ``max |a - b| / max(|a| + |b|, 1e-8)`` over the entries: 0 for equal arrays, about ``1e-7`` or less for a
    right float64 gradient against :func:`numerical_gradient`, about 1 or more for a wrong one. Raises
    ``ValueError`` when the shapes differ (a wrong shape is a bug of its own, not a small error).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
