"""Cases of assignment 04 (backpropagation): ``conv2d_backward`` and the pooling backward passes.

A case holds inputs only: the upstream gradient ``dout`` (the shape of the layer's output), the
layer's input ``x`` and its kernel or pool size; the expected gradients come from
:mod:`.grad_truth` at grading time. Layouts (Keras' ``channels_last``, one image, no batch axis)::

    conv2d_backward(dout, x, kernel, strides=(sh, sw), padding=...)
        dout: (H_out, W_out, C_out), x: (H, W, C_in), kernel: (kh, kw, C_in, C_out)
    max_pool2d_backward / average_pool2d_backward(dout, x, pool_size, strides=..., padding=...)
        dout: (H_out, W_out, C), x: (H, W, C)

Arrays are float32. Convolution strides are always an ``(sh, sw)`` tuple; pooling takes its
``pool_size`` and ``strides`` as 02's ``max_pool2d`` does: an int or a pair, and ``strides=None``
for the pool size. ``strides`` and ``padding`` are always passed (by keyword).

Suites per taught feature (issue #25 item 1; one test cell of 04 each, so that points follow what works):
``valid`` (stride 1 for a convolution, windows side by side for pooling), ``strides`` (``'valid'``, strides
that skip inputs or make pooling windows overlap), ``ties`` (max pooling: tied maxima in windows side by
side), ``same`` and, for the convolution, ``same_crop`` (``'same'`` padding that is larger at the bottom/right:
even kernels, or strides that leave an odd total, where the side of the crop shows). A fixed suite per
feature is the visible check, ``<feature>_random`` the hidden test; ``basic`` and ``random`` mix them all
(tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .case import Case, random_size
from .shapes import as_pair, same_padding_amounts

__all__ = [
    "GRAD_SUITES",
    "conv_backward_valid",
    "conv_backward_valid_random",
    "conv_backward_strides",
    "conv_backward_strides_random",
    "conv_backward_same_fixed",
    "conv_backward_same_random",
    "conv_backward_crop",
    "conv_backward_crop_random",
    "pool_backward_valid",
    "pool_backward_valid_random",
    "pool_backward_strides",
    "pool_backward_strides_random",
    "pool_backward_ties_fixed",
    "pool_backward_ties_random",
    "pool_backward_same_fixed",
    "conv_backward_basic",
    "conv_backward_random",
    "pool_backward_basic",
    "pool_backward_same",
    "pool_backward_random",
]


def _out_length(size: int, k: int, s: int, padding: str) -> int:
    """Output positions along one axis (Keras': 'same' -> ceil(size / s), 'valid' -> floor((size - k) / s) + 1).
    Only used to give ``dout`` its shape: the truth refuses a ``dout`` that is not the layer's output shape."""
    return -(-size // s) if padding == "same" else (size - k) // s + 1


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(0.0, 1.0, size=shape).astype(np.float32)


def _dout(rng: np.random.Generator, x_shape: tuple[int, ...], k: Any, s: Any, padding: str, c: int) -> np.ndarray:
    (kh, kw), (sh, sw) = as_pair(k), as_pair(s)
    return _normal(rng, _out_length(x_shape[0], kh, sh, padding), _out_length(x_shape[1], kw, sw, padding), c)


# --- conv2d_backward ------------------------------------------------------------------


def _conv(rng: np.random.Generator, x: np.ndarray, kernel: np.ndarray, strides: tuple[int, int], padding: str) -> Case:
    dout = _dout(rng, x.shape, kernel.shape[:2], strides, padding, kernel.shape[3])
    return Case((dout, x, kernel), {"strides": strides, "padding": padding})


def _conv_random(
    rng: np.random.Generator, padding: str, strides: tuple[int, int], max_side: int = 9, square: bool = False
) -> Case:
    h, w = int(rng.integers(1, max_side + 1)), int(rng.integers(1, max_side + 1))
    c_in = int(rng.integers(1, 4))
    c_out = c_in if square else int(rng.integers(1, 4))
    kh_max, kw_max = (min(h, 4), min(w, 4)) if padding == "valid" else (4, 4)
    kh, kw = int(rng.integers(1, kh_max + 1)), int(rng.integers(1, kw_max + 1))
    return _conv(rng, _normal(rng, h, w, c_in), _normal(rng, kh, kw, c_in, c_out), strides, padding)


def _pair(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    return int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))


def conv_backward_basic() -> list[Case]:
    """Fixed and small, one case per point of the lesson, so a classic mistake shows before the hidden
    tests: 'valid' at stride 1 (a one-channel 3x3 kernel with dout of ones: dkernel is then the sum of
    the windows; an asymmetric kernel: a flip shows; several channels in and out), strides (2, 2), and
    'same' with an even kernel (Keras pads only at the bottom/right) and at stride 2."""
    rng = np.random.default_rng(4)
    x1 = (np.arange(4 * 4, dtype=np.float32).reshape(4, 4, 1) % 5) - 2
    k1 = np.array([[1, 2, 0], [0, -1, 0], [0, 0, 3]], np.float32).reshape(3, 3, 1, 1)
    k2 = np.array([[1, 0], [2, -1]], np.float32).reshape(2, 2, 1, 1)
    stride, valid = (1, 1), "valid"
    return [
        Case((np.ones((2, 2, 1), np.float32), x1, k1), {"strides": stride, "padding": valid}),
        _conv(rng, x1, k2, stride, valid),
        _conv(rng, _normal(rng, 5, 6, 2), _normal(rng, 2, 3, 2, 3), stride, valid),
        _conv(rng, _normal(rng, 4, 4, 3), _normal(rng, 3, 3, 3, 2), stride, valid),
        _conv(rng, _normal(rng, 5, 5, 1), _normal(rng, 3, 3, 1, 1), (2, 2), valid),
        _conv(rng, _normal(rng, 4, 5, 2), _normal(rng, 2, 2, 2, 1), stride, "same"),
        _conv(rng, _normal(rng, 6, 5, 1), _normal(rng, 3, 3, 1, 2), (2, 2), "same"),
    ]


def _crops(x_shape: tuple[int, ...], k: Any, s: Any) -> bool:
    """Whether ``'same'`` pads one more row or column at the bottom/right than at the top/left."""
    return any(
        a != b
        for a, b in (same_padding_amounts(int(n), kk, ss) for n, kk, ss in zip(x_shape[:2], as_pair(k), as_pair(s)))
    )


def conv_backward_valid() -> list[Case]:
    """``'valid'`` at stride 1: dout of ones on a one-channel 3x3 kernel (dkernel is the sum of the
    windows), an asymmetric kernel (a flip shows), several channels in and out."""
    return conv_backward_basic()[:4]


def conv_backward_valid_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """``'valid'`` at stride 1."""
    return [_conv_random(rng, "valid", (1, 1), square=i % 3 == 0) for i in range(n)]


def conv_backward_strides() -> list[Case]:
    """``'valid'`` with strides > 1: square, rectangular, and an input longer than the windows reach."""
    rng = np.random.default_rng(6)
    return [
        _conv(rng, _normal(rng, 5, 5, 1), _normal(rng, 3, 3, 1, 1), (2, 2), "valid"),
        _conv(rng, _normal(rng, 7, 6, 2), _normal(rng, 2, 3, 2, 2), (3, 2), "valid"),
        _conv(rng, _normal(rng, 6, 6, 1), _normal(rng, 2, 2, 1, 2), (3, 3), "valid"),
    ]


def conv_backward_strides_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """``'valid'``, strides > 1 along at least one axis (rectangular ones included), rectangular kernels."""
    cases = []
    for i in range(n):
        strides = (int(rng.integers(2, 4)), int(rng.integers(1, 4)))
        cases.append(_conv_random(rng, "valid", strides if i % 2 == 0 else strides[::-1], square=i % 3 == 0))
    return cases


def _conv_same(rng: np.random.Generator, n: int, crop: bool) -> list[Case]:
    """Random ``'same'`` cases whose padding is larger at the bottom/right (``crop``) or equal on both sides."""
    cases: list[Case] = []
    while len(cases) < n:
        case = _conv_random(
            rng, "same", (1, 1) if len(cases) % 2 == 0 else _pair(rng, 1, 2), square=len(cases) % 3 == 0
        )
        _, x, kernel = case.args
        if _crops(x.shape, kernel.shape[:2], case.kwargs["strides"]) == crop:
            cases.append(case)
    return cases


def conv_backward_same_fixed() -> list[Case]:
    """``'same'`` padded equally on both sides: odd kernels at stride 1, and at stride 2 where the total is even."""
    rng = np.random.default_rng(7)
    return [
        _conv(rng, _normal(rng, 4, 5, 2), _normal(rng, 3, 3, 2, 1), (1, 1), "same"),
        _conv(rng, _normal(rng, 5, 5, 1), _normal(rng, 3, 3, 1, 2), (2, 2), "same"),
        _conv(rng, _normal(rng, 4, 4, 3), _normal(rng, 1, 3, 3, 2), (1, 1), "same"),
    ]


def conv_backward_same_random(rng: np.random.Generator, n: int = 10) -> list[Case]:
    """``'same'`` padded equally on both sides."""
    return _conv_same(rng, n, crop=False)


def conv_backward_crop() -> list[Case]:
    """``'same'`` padded more at the bottom/right (Keras' rule): an even kernel at stride 1, an odd one at
    stride 2 whose total padding is odd, a rectangular even kernel."""
    rng = np.random.default_rng(8)
    return [
        _conv(rng, _normal(rng, 4, 5, 2), _normal(rng, 2, 2, 2, 1), (1, 1), "same"),
        _conv(rng, _normal(rng, 6, 5, 1), _normal(rng, 3, 3, 1, 2), (2, 2), "same"),
        _conv(rng, _normal(rng, 5, 6, 2), _normal(rng, 2, 4, 2, 2), (1, 1), "same"),
    ]


def conv_backward_crop_random(rng: np.random.Generator, n: int = 10) -> list[Case]:
    """``'same'`` padded more at the bottom/right along at least one axis."""
    return _conv_same(rng, n, crop=True)


def conv_backward_random(rng: np.random.Generator, n: int = 20) -> list[Case]:
    return [
        _conv_random(rng, str(rng.choice(["valid", "same"])), _pair(rng, 1, 3), square=i % 4 == 0) for i in range(n)
    ]


# --- max_pool2d_backward, average_pool2d_backward ---------------------------------------


def _pool(rng: np.random.Generator, x: np.ndarray, pool_size: Any, strides: Any, padding: str) -> Case:
    dout = _dout(rng, x.shape, pool_size, pool_size if strides is None else strides, padding, x.shape[2])
    return Case((dout, x, pool_size), {"strides": strides, "padding": padding})


def _pool_random(rng: np.random.Generator, x: np.ndarray, padding: str) -> Case:
    h, w = x.shape[:2]
    if padding == "valid":
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: Any = ph if ph == pw else (ph, pw)
    else:
        pool = random_size(rng, 2, 4)
    strides = None if rng.random() < 0.3 else random_size(rng, 1, 3)
    return _pool(rng, x, pool, strides, padding)


def pool_backward_basic() -> list[Case]:
    """Fixed, one case per point of the lesson: windows that do not overlap, windows that overlap (stride
    1: an input that is the maximum of several windows gets their gradients added), a rectangular pool,
    two channels, a window whose maximum is tied (TensorFlow's gradient goes to the first one), and
    'same' windows that hang over the bottom/right border (negative values, so a padded zero would win
    a max; an average there counts only the real inputs)."""
    rng = np.random.default_rng(5)
    x1 = np.array([[1, -2, 3, 0], [4, 6, -1, 2], [0, 1, 7, -3], [2, 5, 2, 8]], np.float32).reshape(4, 4, 1)
    x2 = rng.permutation(30).astype(np.float32).reshape(5, 3, 2) - 10  # distinct values: no ties
    return [
        Case((np.ones((2, 2, 1), np.float32), x1, (2, 2)), {"strides": None, "padding": "valid"}),
        _pool(rng, x1, 2, None, "valid"),
        _pool(rng, x1, (2, 2), (1, 1), "valid"),
        _pool(rng, x2, (3, 2), (1, 1), "valid"),
        _pool(rng, x2, 2, 2, "valid"),
        _pool(rng, np.array([[3, 3], [1, 0]], np.float32).reshape(2, 2, 1), 2, None, "valid"),
        _pool(rng, np.arange(9, dtype=np.float32).reshape(3, 3, 1) - 20, (2, 2), None, "same"),
    ]


def pool_backward_valid() -> list[Case]:
    """Windows side by side (strides None or the pool size), ``'valid'``: dout of ones, a rectangular pool,
    two channels; distinct values (no ties)."""
    rng = np.random.default_rng(9)
    x1 = np.array([[1, -2, 3, 0], [4, 6, -1, 2], [0, 1, 7, -3], [2, 5, 2, 8]], np.float32).reshape(4, 4, 1)
    x2 = rng.permutation(30).astype(np.float32).reshape(5, 3, 2) - 10
    return [
        Case((np.ones((2, 2, 1), np.float32), x1, (2, 2)), {"strides": None, "padding": "valid"}),
        _pool(rng, x1, 2, None, "valid"),
        _pool(rng, x2, 2, 2, "valid"),
        _pool(rng, x2, (3, 2), None, "valid"),
    ]


def pool_backward_valid_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """``'valid'``, strides None or the pool size, distinct values."""
    cases = []
    for _ in range(n):
        h, w, c = int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 4))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: Any = ph if ph == pw else (ph, pw)
        cases.append(_pool(rng, _normal(rng, h, w, c), pool, None if rng.random() < 0.6 else pool, "valid"))
    return cases


def pool_backward_strides() -> list[Case]:
    """``'valid'`` with strides other than the pool: overlapping windows (an input that is the maximum of
    several windows gets their gradients added) and windows with gaps between them."""
    rng = np.random.default_rng(10)
    x1 = np.array([[1, -2, 3, 0], [4, 6, -1, 2], [0, 1, 7, -3], [2, 5, 2, 8]], np.float32).reshape(4, 4, 1)
    x2 = rng.permutation(30).astype(np.float32).reshape(5, 3, 2) - 10
    return [
        _pool(rng, x1, (2, 2), (1, 1), "valid"),
        _pool(rng, x2, (3, 2), (1, 1), "valid"),
        _pool(rng, rng.permutation(49).astype(np.float32).reshape(7, 7, 1), 2, 3, "valid"),
    ]


def pool_backward_strides_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """``'valid'``, strides from 1 to 3, never the pool size; distinct values."""
    cases: list[Case] = []
    while len(cases) < n:
        h, w, c = int(rng.integers(2, 10)), int(rng.integers(2, 10)), int(rng.integers(1, 4))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        strides = random_size(rng, 1, 3)
        if as_pair(strides) == (ph, pw):
            continue
        cases.append(_pool(rng, _normal(rng, h, w, c), ph if ph == pw else (ph, pw), strides, "valid"))
    return cases


def pool_backward_ties_fixed() -> list[Case]:
    """Tied maxima in windows side by side: four equal values, two tied in the first row, a tie on a
    window's diagonal. TensorFlow gives a window's gradient to its first maximum in row-major order."""
    rng = np.random.default_rng(11)
    return [
        Case(
            (np.array([[[2.0]]], np.float32), np.ones((2, 2, 1), np.float32), (2, 2)),
            {"strides": None, "padding": "valid"},
        ),
        _pool(rng, np.array([[3, 3], [1, 0]], np.float32).reshape(2, 2, 1), 2, None, "valid"),
        _pool(
            rng,
            np.array([[0, 1, 2, 2], [1, 0, 2, 1], [5, 4, 1, 1], [4, 5, 1, 1]], np.float32).reshape(4, 4, 1),
            2,
            None,
            "valid",
        ),
    ]


def pool_backward_ties_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """Small integers (many equal values inside a window), windows side by side, ``'valid'``; every case
    has a window whose maximum is tied."""
    cases: list[Case] = []
    while len(cases) < n:
        h, w, c = int(rng.integers(2, 8)), int(rng.integers(2, 8)), int(rng.integers(1, 3))
        ph, pw = int(rng.integers(2, min(h, 3) + 1)), int(rng.integers(2, min(w, 3) + 1))
        x = rng.integers(-1, 2, size=(h, w, c)).astype(np.float32)
        windows = x[: h // ph * ph, : w // pw * pw].reshape(h // ph, ph, w // pw, pw, c)
        if ((windows == windows.max(axis=(1, 3), keepdims=True)).sum(axis=(1, 3)) > 1).any():  # a tie somewhere
            cases.append(_pool(rng, x, ph if ph == pw else (ph, pw), None, "valid"))
    return cases


def pool_backward_same_fixed() -> list[Case]:
    """``'same'``: windows over the bottom/right border holding only negative values (a padded zero would
    win a max; an average there counts only the real inputs), an odd window at stride 2, stride 1."""
    rng = np.random.default_rng(12)
    return [
        _pool(rng, np.arange(9, dtype=np.float32).reshape(3, 3, 1) - 20, (2, 2), None, "same"),
        _pool(rng, rng.permutation(72).astype(np.float32).reshape(6, 6, 2) - 80, (3, 3), (2, 2), "same"),
        _pool(rng, rng.permutation(20).astype(np.float32).reshape(4, 5, 1) - 30, 3, 1, "same"),
    ]


def pool_backward_same(rng: np.random.Generator, n: int = 16) -> list[Case]:
    """'same' padding: windows that hang over the bottom/right border (negative values, so a padded zero
    would win a max), odd windows at stride 2."""
    cases = [
        _pool(rng, np.arange(25, dtype=np.float32).reshape(5, 5, 1) - 30, (2, 2), None, "same"),
        _pool(rng, _normal(rng, 6, 6, 2), (3, 3), (2, 2), "same"),
    ]
    for _ in range(n - 2):
        h, w, c = int(rng.integers(2, 10)), int(rng.integers(2, 10)), int(rng.integers(1, 4))
        cases.append(_pool_random(rng, _normal(rng, h, w, c), "same"))
    return cases


def pool_backward_random(rng: np.random.Generator, n: int = 24) -> list[Case]:
    cases = []
    for i in range(n):
        h, w, c = int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 4))
        x = rng.integers(-2, 3, size=(h, w, c)).astype(np.float32) if i % 4 == 3 else _normal(rng, h, w, c)
        cases.append(_pool_random(rng, x, str(rng.choice(["valid", "same"]))))
    return cases


#: the families of assignment 04, merged into :data:`.cases.SUITES`
GRAD_SUITES: dict[str, dict[str, Callable[..., list[Case]]]] = {
    "conv2d_backward": {
        "basic": lambda rng, n=None: conv_backward_basic(),
        "random": conv_backward_random,
        "valid": lambda rng, n=None: conv_backward_valid(),
        "valid_random": conv_backward_valid_random,
        "strides": lambda rng, n=None: conv_backward_strides(),
        "strides_random": conv_backward_strides_random,
        "same": lambda rng, n=None: conv_backward_same_fixed(),
        "same_random": conv_backward_same_random,
        "same_crop": lambda rng, n=None: conv_backward_crop(),
        "same_crop_random": conv_backward_crop_random,
    },
    "pool2d_backward": {
        "basic": lambda rng, n=None: pool_backward_basic(),
        "random": pool_backward_random,
        "valid": lambda rng, n=None: pool_backward_valid(),
        "valid_random": pool_backward_valid_random,
        "strides": lambda rng, n=None: pool_backward_strides(),
        "strides_random": pool_backward_strides_random,
        "ties": lambda rng, n=None: pool_backward_ties_fixed(),
        "ties_random": pool_backward_ties_random,
        "same": lambda rng, n=None: pool_backward_same_fixed(),
        "same_random": pool_backward_same,
    },
}
