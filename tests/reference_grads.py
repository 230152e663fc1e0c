"""Reference answers to assignment 04 (backpropagation), written from the definitions in plain NumPy
(test-only code), and the classic wrong answers the feedback must recognise.

Nothing here imports ``grader_utils`` or Keras: an independent statement of what the exercises ask,
used to show that right answers (loops and vectorised) pass every suite, and that each classic
mistake fails and is named. Layouts as in the exercises: ``x`` ``(H, W, C_in)``, ``kernel``
``(kh, kw, C_in, C_out)``, ``dout`` the layer's output shape; 'same' padding puts ``floor(total / 2)``
at the top/left and the rest at the bottom/right (TensorFlow's split).

A wrong version takes the same arguments and changes one thing (its name says which); they are
built by :func:`conv_backward` / :func:`pool_backward` from switches, so each mistake is one switch.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from reference_impls import out_length, same_pads, to_pair


def _pads(size: int, k: int, s: int, padding: str, swapped: bool = False) -> tuple[int, int]:
    if padding.lower() != "same":
        return 0, 0
    before, after = same_pads(size, k, s)
    return (after, before) if swapped else (before, after)


# --- conv2d_backward ------------------------------------------------------------------


def conv_backward(
    dout: np.ndarray,
    x: np.ndarray,
    kernel: np.ndarray,
    strides: Any = (1, 1),
    padding: str = "valid",
    *,
    flip: bool = False,
    swap_pads: bool = False,
    ignore_strides: bool = False,
    bias_mean: bool = False,
) -> tuple[np.ndarray, ...]:
    """Loops over the output pixels: each pixel's gradient ``g = dout[i, j]`` (C_out,) adds
    ``patch * g`` to dkernel and ``kernel @ g`` to the input window it came from. Switches make the
    classic mistakes: ``flip`` scatters the flipped kernel into dx (a "full correlation" without
    the flip), ``swap_pads`` puts 'same''s extra row/column at the top/left, ``ignore_strides``
    moves the windows by 1 (dx and dkernel), ``bias_mean`` averages dout instead of summing it."""
    kh, kw, c_in, c_out = kernel.shape
    h, w, _ = x.shape
    (top, bottom), (left, right) = (
        _pads(n, k, s, padding, swap_pads) for n, k, s in zip((h, w), (kh, kw), to_pair(strides))
    )
    sh, sw = (1, 1) if ignore_strides else to_pair(strides)
    xp = np.pad(x.astype(np.float64), ((top, bottom), (left, right), (0, 0)))
    dxp = np.zeros_like(xp)
    dk = np.zeros(kernel.shape)
    k = kernel.astype(np.float64)[::-1, ::-1] if flip else kernel.astype(np.float64)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            g = dout[i, j].astype(np.float64)
            patch = xp[i * sh : i * sh + kh, j * sw : j * sw + kw]
            if patch.shape[:2] != (kh, kw):  # a window past the padded input (only with ignore_strides off)
                continue
            dk += patch[..., None] * g
            dxp[i * sh : i * sh + kh, j * sw : j * sw + kw] += k @ g
    db = dout.astype(np.float64).mean(axis=(0, 1)) if bias_mean else dout.astype(np.float64).sum(axis=(0, 1))
    dx = dxp[top : top + h, left : left + w]
    return dx.astype(x.dtype), dk.astype(kernel.dtype), db.astype(dout.dtype)


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, kernel: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right answer, with loops over the output pixels."""
    return conv_backward(dout, x, kernel, strides, padding)  # type: ignore[return-value]


def conv2d_backward_vectorized(
    dout: np.ndarray, x: np.ndarray, kernel: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right answer, one step per kernel offset ``(a, b)`` on whole arrays: the inputs that offset
    touches are ``xp[a::sh, b::sw]`` (h_out x w_out of them)."""
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    h, w, _ = x.shape
    h_out, w_out = dout.shape[:2]
    (top, bottom), (left, right) = _pads(h, kh, sh, padding), _pads(w, kw, sw, padding)
    xp = np.pad(x.astype(np.float64), ((top, bottom), (left, right), (0, 0)))
    g = dout.astype(np.float64)
    dxp = np.zeros_like(xp)
    dk = np.zeros(kernel.shape)
    for a in range(kh):
        for b in range(kw):
            rows, cols = slice(a, a + (h_out - 1) * sh + 1, sh), slice(b, b + (w_out - 1) * sw + 1, sw)
            dk[a, b] = np.einsum("ijc,ijo->co", xp[rows, cols], g)
            dxp[rows, cols] += g @ kernel[a, b].astype(np.float64).T
    dx = dxp[top : top + h, left : left + w]
    return dx.astype(x.dtype), dk.astype(kernel.dtype), g.sum(axis=(0, 1)).astype(dout.dtype)


def conv2d_backward_full_correlation(
    dout: np.ndarray, x: np.ndarray, kernel: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lesson's statement, computed literally: dx is the 'full' correlation of dout (dilated by the
    strides: ``s - 1`` zeros between its pixels) with the kernel flipped by 180 degrees and its
    channel axes swapped, cropped to the padded input and then to x; dkernel and dbias as the loops."""
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    h, w, _ = x.shape
    (top, bottom), (left, right) = _pads(h, kh, sh, padding), _pads(w, kw, sw, padding)
    hp, wp = h + top + bottom, w + left + right
    h_out, w_out = dout.shape[:2]
    dilated = np.zeros(((h_out - 1) * sh + 1, (w_out - 1) * sw + 1, c_out))
    dilated[::sh, ::sw] = dout
    full = np.pad(dilated, ((kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    flipped = kernel.astype(np.float64)[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_out, C_in)
    dxp = np.zeros((hp, wp, c_in))
    rows, cols = full.shape[0] - kh + 1, full.shape[1] - kw + 1  # the 'full' output: covers the padded input
    for r in range(min(rows, hp)):
        for c in range(min(cols, wp)):
            dxp[r, c] = np.einsum("abo,abon->n", full[r : r + kh, c : c + kw], flipped)
    _, dk, db = conv2d_backward(dout, x, kernel, strides, padding)
    return dxp[top : top + h, left : left + w].astype(x.dtype), dk, db


# --- max_pool2d_backward, average_pool2d_backward ----------------------------------------


def pool_backward(
    dout: np.ndarray,
    x: np.ndarray,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    *,
    kind: str = "max",
    every_tie: bool = False,
    assign: bool = False,
    full_window: bool = False,
    swap_pads: bool = False,
    ignore_strides: bool = False,
) -> np.ndarray:
    """Loops over the output pixels; each window's gradient goes to its first largest value in
    row-major order (max: what TensorFlow does, tests/test_grad_truth.py) or, divided by the number
    of input values in the window, to each of them (average). Switches make the classic mistakes:
    ``every_tie`` (every tied maximum gets the gradient), ``assign`` (``=`` instead of ``+=``: an
    overlapping window overwrites), ``full_window`` (an average divided by the whole pool size at
    'same' borders), ``swap_pads`` ('same''s extra row/column at the top/left), ``ignore_strides``."""
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    top, left = _pads(h, ph, sh, padding, swap_pads)[0], _pads(w, pw, sw, padding, swap_pads)[0]
    if ignore_strides:
        sh = sw = 1
    dx = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        r0 = i * sh - top
        rows = slice(max(r0, 0), min(r0 + ph, h))
        for j in range(dout.shape[1]):
            c0 = j * sw - left
            cols = slice(max(c0, 0), min(c0 + pw, w))
            window = x[rows, cols].astype(np.float64)
            if window.size == 0:
                continue
            g = dout[i, j].astype(np.float64)
            if kind == "average":
                share = g / (ph * pw if full_window else window.shape[0] * window.shape[1])
                if assign:
                    dx[rows, cols] = share
                else:
                    dx[rows, cols] += share
                continue
            for ch in range(c):
                win = window[:, :, ch]
                if every_tie:
                    mask = win == win.max()
                else:
                    mask = np.zeros(win.shape, bool)
                    mask[np.unravel_index(np.argmax(win), win.shape)] = True  # argmax: the first maximum
                if assign:
                    dx[rows, cols, ch][mask] = g[ch]
                else:
                    dx[rows, cols, ch] += mask * g[ch]
    return dx.astype(x.dtype)


def max_pool2d_backward(
    dout: np.ndarray, x: np.ndarray, pool_size: Any, strides: Any = None, padding: str = "valid"
) -> np.ndarray:
    return pool_backward(dout, x, pool_size, strides, padding, kind="max")


def average_pool2d_backward(
    dout: np.ndarray, x: np.ndarray, pool_size: Any, strides: Any = None, padding: str = "valid"
) -> np.ndarray:
    return pool_backward(dout, x, pool_size, strides, padding, kind="average")


def pool2d_backward_vectorized(
    dout: np.ndarray, x: np.ndarray, pool_size: Any, strides: Any = None, padding: str = "valid", *, kind: str = "max"
) -> np.ndarray:
    """One step per window offset ``(a, b)`` on whole arrays. Max: the forward pass first, then the
    offsets in row-major order, each giving the gradient to the windows whose maximum it is and that
    no earlier offset took (the first maximum). Average: ``dout / count`` to every offset, count being
    the number of input values in each window (padding, -inf or 0 here, not counted)."""
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    h_out, w_out = out_length(h, ph, sh, padding), out_length(w, pw, sw, padding)
    pads = (*(_pads(n, k, s, padding) for n, k, s in ((h, ph, sh), (w, pw, sw))), (0, 0))
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x.astype(np.float64), pads, constant_values=fill)
    real = np.pad(np.ones(x.shape), pads)
    offsets = [(a, b) for a in range(ph) for b in range(pw)]

    def at(array: np.ndarray, a: int, b: int) -> np.ndarray:
        return array[a : a + (h_out - 1) * sh + 1 : sh, b : b + (w_out - 1) * sw + 1 : sw]

    g = dout.astype(np.float64)
    dxp = np.zeros(xp.shape)
    if kind == "max":
        out = np.max([at(xp, a, b) for a, b in offsets], axis=0)
        taken = np.zeros(out.shape, bool)
        for a, b in offsets:
            first = (at(xp, a, b) == out) & ~taken
            taken |= first
            at(dxp, a, b)[...] += first * g
    else:
        count = np.sum([at(real, a, b) for a, b in offsets], axis=0)
        for a, b in offsets:
            at(dxp, a, b)[...] += g / count
    return dxp[pads[0][0] : pads[0][0] + h, pads[1][0] : pads[1][0] + w].astype(x.dtype)


#: exercise -> right answers (loops first)
CORRECT = {
    "conv2d_backward": [conv2d_backward, conv2d_backward_vectorized, conv2d_backward_full_correlation],
    "max_pool2d_backward": [max_pool2d_backward, partial(pool2d_backward_vectorized, kind="max")],
    "average_pool2d_backward": [average_pool2d_backward, partial(pool2d_backward_vectorized, kind="average")],
}

#: exercise -> {mistake: a wrong answer making it}
WRONG = {
    "conv2d_backward": {
        "kernel_not_flipped": partial(conv_backward, flip=True),
        "pads_swapped": partial(conv_backward, swap_pads=True),
        "strides_ignored": partial(conv_backward, ignore_strides=True),
        "bias_mean": partial(conv_backward, bias_mean=True),
    },
    "max_pool2d_backward": {
        "every_tie": partial(pool_backward, kind="max", every_tie=True),
        "assign": partial(pool_backward, kind="max", assign=True),
        "pads_swapped": partial(pool_backward, kind="max", swap_pads=True),
        "strides_ignored": partial(pool_backward, kind="max", ignore_strides=True),
    },
    "average_pool2d_backward": {
        "full_window": partial(pool_backward, kind="average", full_window=True),
        "full_window_pads_swapped": partial(pool_backward, kind="average", full_window=True, swap_pads=True),
        "assign": partial(pool_backward, kind="average", assign=True),
        "pads_swapped": partial(pool_backward, kind="average", swap_pads=True),
        "strides_ignored": partial(pool_backward, kind="average", ignore_strides=True),
    },
}
