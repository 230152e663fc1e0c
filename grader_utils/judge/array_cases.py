"""Cases for the NumPy array exercises: max/average pooling (02), ``correlate2d`` (01) and
``conv2d``/``conv2d_fast`` (02).

Layouts are Keras': an image ``x`` is ``(H, W, C)`` float32, a kernel ``(kh, kw, C_in, C_out)``, a
bias ``(C_out,)``; ``correlate2d`` takes a 2-D ``(H, W)`` image and a ``(kh, kw)`` kernel. Values
are random normal (both signs, so zero padding changes a max), fixed suites first.

Suites per taught feature (issue #25 item 1; one test cell of 02 each, so that points follow what works):
``'valid'`` windows side by side (strides = the pool, or stride 1 for a convolution), strides that make
windows overlap or skip inputs (``'valid'`` padding), and ``'same'`` padding (any stride). A fixed suite
per feature is the visible check, a random one the hidden test; ``basic`` (every visible case at once) and
``random`` (all features mixed) remain for the tests and benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .case import Case, random_size

__all__ = [
    "pool_values_valid",
    "pool_values_valid_random",
    "pool_values_strides",
    "pool_values_strides_random",
    "pool_values_same_fixed",
    "conv_valid",
    "conv_valid_random",
    "conv_strides",
    "conv_same_fixed",
    "pool_values_basic",
    "pool_values_same",
    "pool_values_random",
    "correlate_basic",
    "correlate_random",
    "conv_basic",
    "conv_same",
    "conv_strided",
    "conv_random",
    "conv_large",
]


# --- 02: max_pool2d, average_pool2d ---------------------------------------------------


def _image(rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
    """Values of both signs (so a border padded with zeros changes a max)."""
    return rng.normal(0.0, 2.0, size=(h, w, c)).astype(np.float32)


def pool_values_basic() -> list[Case]:
    x1 = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    x2 = np.array(
        [[1, -2, 3, 0, 5], [4, 6, -1, 2, 2], [0, 1, 7, -3, 1], [2, 2, 2, 8, -4], [9, 0, 1, 1, 3]], dtype=np.float32
    ).reshape(5, 5, 1)
    x3 = (np.arange(6 * 6 * 2, dtype=np.float32).reshape(6, 6, 2) % 7) - 3
    return [
        Case((x1, (2, 2))),
        Case((x2, 2)),
        Case((x3, (3, 3)), {"strides": (1, 1), "padding": "valid"}),
        Case((x3, (2, 2)), {"strides": None, "padding": "valid"}),
        # 'same': a window over the bottom/right border holding only negative values, and an odd window
        # at stride 2 (one padded row and column, both at the bottom/right)
        Case((12 - np.arange(25, dtype=np.float32).reshape(5, 5, 1), 2), {"padding": "same"}),
        Case((x3, (3, 3)), {"strides": (2, 2), "padding": "same"}),
    ]


def _pool_examples() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x1 = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    x2 = np.array(
        [[1, -2, 3, 0, 5], [4, 6, -1, 2, 2], [0, 1, 7, -3, 1], [2, 2, 2, 8, -4], [9, 0, 1, 1, 3]], dtype=np.float32
    ).reshape(5, 5, 1)
    x3 = (np.arange(6 * 6 * 2, dtype=np.float32).reshape(6, 6, 2) % 7) - 3
    return x1, x2, x3


def pool_values_valid() -> list[Case]:
    """``'valid'`` windows side by side (strides None, or equal to the pool): square and rectangular
    pools, a side the windows do not fill (its last row/column is dropped), two channels."""
    x1, x2, x3 = _pool_examples()
    return [
        Case((x1, (2, 2))),
        Case((x2, 2)),
        Case((x3, (2, 2)), {"strides": None, "padding": "valid"}),
        Case((x3, (3, 2)), {"strides": (3, 2), "padding": "valid"}),
    ]


def pool_values_valid_random(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """``'valid'``, strides None or equal to the pool size."""
    cases = []
    for _ in range(n):
        h, w, c = int(rng.integers(1, 14)), int(rng.integers(1, 14)), int(rng.integers(1, 5))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: int | tuple[int, int] = ph if ph == pw else (ph, pw)
        strides = None if rng.random() < 0.6 else pool
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": "valid"}))
    return cases


def pool_values_strides() -> list[Case]:
    """``'valid'`` with strides other than the pool: overlapping windows (stride 1, rectangular strides)
    and windows with gaps between them."""
    x1, x2, x3 = _pool_examples()
    return [
        Case((x3, (3, 3)), {"strides": (1, 1), "padding": "valid"}),
        Case((x2, 2), {"strides": 1, "padding": "valid"}),
        Case((x3, (2, 3)), {"strides": (2, 1), "padding": "valid"}),
        Case((x2, (2, 2)), {"strides": 3, "padding": "valid"}),
    ]


def pool_values_strides_random(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """``'valid'``, strides drawn from 1 to 3 and never equal to the pool size."""
    cases: list[Case] = []
    while len(cases) < n:
        h, w, c = int(rng.integers(2, 14)), int(rng.integers(2, 14)), int(rng.integers(1, 5))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: int | tuple[int, int] = ph if ph == pw else (ph, pw)
        strides = random_size(rng, 1, 3)
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        if (sh, sw) == (ph, pw):
            continue
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": "valid"}))
    return cases


def pool_values_same_fixed() -> list[Case]:
    """``'same'``: a window over the bottom/right border holding only negative values, an odd window at
    stride 2 (one padded row and column, both at the bottom/right), and stride 1 (every side padded)."""
    _, x2, x3 = _pool_examples()
    return [
        Case((12 - np.arange(25, dtype=np.float32).reshape(5, 5, 1), 2), {"padding": "same"}),
        Case((x3, (3, 3)), {"strides": (2, 2), "padding": "same"}),
        Case((x2 - 10, 3), {"strides": 1, "padding": "same"}),
    ]


def pool_values_same(rng: np.random.Generator, n: int = 30) -> list[Case]:
    """``'same'`` padding, including windows that hang over the bottom/right border."""
    cases = [Case((np.arange(25, dtype=np.float32).reshape(5, 5, 1) - 12, (2, 2)), {"padding": "same"})]
    for _ in range(n - 1):
        h, w, c = int(rng.integers(2, 12)), int(rng.integers(2, 12)), int(rng.integers(1, 4))
        pool = random_size(rng, 2, 4)
        strides = None if rng.random() < 0.3 else random_size(rng, 1, 3)
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": "same"}))
    return cases


def pool_values_random(rng: np.random.Generator, n: int = 60) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w, c = int(rng.integers(1, 14)), int(rng.integers(1, 14)), int(rng.integers(1, 5))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: int | tuple[int, int] = ph if ph == pw else (ph, pw)
        strides = None if rng.random() < 0.4 else random_size(rng, 1, 3)
        padding = str(rng.choice(["valid", "same"]))
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": padding}))
    return cases


# --- 01: correlate2d; 02: conv2d, conv2d_fast -----------------------------------------


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(0.0, 1.0, size=shape).astype(np.float32)


def correlate_basic() -> list[Case]:
    image = np.arange(30, dtype=np.float32).reshape(5, 6) % 7
    edge = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
    corner = np.array([[1, 2], [0, 0]], dtype=np.float32)
    return [
        Case((image, edge)),
        Case((image, corner)),
        Case((image, np.ones((1, 1), np.float32))),
        Case((image[:3, :3].copy(), edge)),
    ]


def correlate_random(rng: np.random.Generator, n: int = 30) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        kh, kw = int(rng.integers(1, min(h, 6) + 1)), int(rng.integers(1, min(w, 6) + 1))
        cases.append(Case((_normal(rng, h, w), _normal(rng, kh, kw))))
    return cases


def _conv_case(
    rng: np.random.Generator, padding: str, strides: Any, max_side: int = 12, square_channels: bool = False
) -> Case:
    h, w = int(rng.integers(1, max_side + 1)), int(rng.integers(1, max_side + 1))
    c_in = int(rng.integers(1, 5))
    c_out = c_in if square_channels else int(rng.integers(1, 5))
    kh_max, kw_max = (min(h, 5), min(w, 5)) if padding == "valid" else (5, 5)
    kh, kw = int(rng.integers(1, kh_max + 1)), int(rng.integers(1, kw_max + 1))
    return Case(
        (_normal(rng, h, w, c_in), _normal(rng, kh, kw, c_in, c_out), _normal(rng, c_out)),
        {"strides": strides, "padding": padding},
    )


def conv_basic() -> list[Case]:
    rng = np.random.default_rng(1)
    x = (np.arange(5 * 5 * 2, dtype=np.float32).reshape(5, 5, 2) % 5) - 2
    k = np.zeros((3, 3, 2, 1), np.float32)
    k[0, 0, 0, 0], k[2, 1, 1, 0] = 1, -1
    return [
        Case((x, k, np.array([0.5], np.float32))),
        Case((_normal(rng, 6, 7, 3), _normal(rng, 3, 3, 3, 4), _normal(rng, 4))),
        Case(
            (_normal(rng, 5, 6, 2), _normal(rng, 2, 3, 2, 3), _normal(rng, 3)), {"strides": (1, 1), "padding": "valid"}
        ),
        # 'same': an odd kernel at stride 2 (padding only at the bottom), an even kernel at stride 1,
        # an even kernel with rectangular strides
        Case(
            (_normal(rng, 6, 7, 2), _normal(rng, 3, 3, 2, 2), _normal(rng, 2)), {"strides": (2, 2), "padding": "same"}
        ),
        Case((_normal(rng, 5, 5, 1), _normal(rng, 2, 2, 1, 2), _normal(rng, 2)), {"padding": "same"}),
        Case(
            (_normal(rng, 7, 8, 3), _normal(rng, 4, 2, 3, 2), _normal(rng, 2)), {"strides": (2, 3), "padding": "same"}
        ),
    ]


def conv_valid() -> list[Case]:
    """``'valid'`` at stride 1: a sparse two-channel kernel, several channels in and out, a rectangular
    kernel, a 1x1 kernel."""
    rng = np.random.default_rng(1)
    x = (np.arange(5 * 5 * 2, dtype=np.float32).reshape(5, 5, 2) % 5) - 2
    k = np.zeros((3, 3, 2, 1), np.float32)
    k[0, 0, 0, 0], k[2, 1, 1, 0] = 1, -1
    return [
        Case((x, k, np.array([0.5], np.float32))),
        Case((_normal(rng, 6, 7, 3), _normal(rng, 3, 3, 3, 4), _normal(rng, 4))),
        Case(
            (_normal(rng, 5, 6, 2), _normal(rng, 2, 3, 2, 3), _normal(rng, 3)), {"strides": (1, 1), "padding": "valid"}
        ),
        Case(
            (_normal(rng, 4, 3, 3), _normal(rng, 1, 1, 3, 2), _normal(rng, 2)), {"strides": (1, 1), "padding": "valid"}
        ),
    ]


def conv_valid_random(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """``'valid'`` at stride 1."""
    return [_conv_case(rng, "valid", (1, 1), square_channels=i % 3 == 0) for i in range(n)]


def conv_strides() -> list[Case]:
    """``'valid'`` with strides > 1: square, rectangular, and a stride that leaves the last rows unread."""
    rng = np.random.default_rng(2)
    return [
        Case(
            (_normal(rng, 6, 7, 2), _normal(rng, 3, 3, 2, 2), _normal(rng, 2)), {"strides": (2, 2), "padding": "valid"}
        ),
        Case(
            (_normal(rng, 7, 8, 3), _normal(rng, 2, 3, 3, 2), _normal(rng, 2)), {"strides": (2, 3), "padding": "valid"}
        ),
        Case(
            (_normal(rng, 8, 5, 1), _normal(rng, 2, 2, 1, 3), _normal(rng, 3)), {"strides": (3, 1), "padding": "valid"}
        ),
    ]


def conv_same_fixed() -> list[Case]:
    """``'same'``: an odd kernel at stride 1 (padding on every side), an odd kernel at stride 2 (padding
    only at the bottom), an even kernel at stride 1, an even kernel with rectangular strides."""
    rng = np.random.default_rng(3)
    return [
        Case(
            (_normal(rng, 5, 6, 2), _normal(rng, 3, 3, 2, 2), _normal(rng, 2)), {"strides": (1, 1), "padding": "same"}
        ),
        Case(
            (_normal(rng, 6, 7, 2), _normal(rng, 3, 3, 2, 2), _normal(rng, 2)), {"strides": (2, 2), "padding": "same"}
        ),
        Case((_normal(rng, 5, 5, 1), _normal(rng, 2, 2, 1, 2), _normal(rng, 2)), {"padding": "same"}),
        Case(
            (_normal(rng, 7, 8, 3), _normal(rng, 4, 2, 3, 2), _normal(rng, 2)), {"strides": (2, 3), "padding": "same"}
        ),
    ]


def conv_same(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """'same' padding: odd and even kernels, strides 1 to 3."""
    return [_conv_case(rng, "same", random_size(rng, 1, 3), square_channels=i % 3 == 0) for i in range(n)]


def conv_strided(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """'valid' padding with strides > 1, rectangular strides included."""
    return [
        _conv_case(
            rng, "valid", (int(rng.integers(1, 4)), int(rng.integers(2, 4))), max_side=14, square_channels=i % 3 == 0
        )
        for i in range(n)
    ]


def conv_random(rng: np.random.Generator, n: int = 30) -> list[Case]:
    return [
        _conv_case(rng, str(rng.choice(["valid", "same"])), random_size(rng, 1, 3), square_channels=i % 4 == 0)
        for i in range(n)
    ]


def conv_large(rng: np.random.Generator, n: int = 2) -> list[Case]:
    """Large enough that a Python loop over output pixels is easy to tell from vectorized code by
    the time it takes (measured by the grader, outside the student's process): the first shape has a
    million output pixels, the second (strided) 798,400; a loop over them takes seconds even with one
    matrix product per pixel, 60 to 100 times as long as whole-array NumPy (``benchmarks`` and
    ``tests/test_reference_solutions.py`` measure both). Few channels keep the vectorized answers cheap.
    Shapes alternate between two fixed ones; values are random."""
    shapes: list[tuple[tuple[int, int, int], tuple[int, int, int, int], dict[str, Any]]] = [
        ((1000, 1000, 1), (3, 3, 1, 1), {"strides": (1, 1), "padding": "same"}),
        ((1600, 1000, 1), (2, 3, 1, 2), {"strides": (2, 1), "padding": "valid"}),
    ]
    cases = []
    for i in range(n):
        x_shape, k_shape, kwargs = shapes[i % 2]
        cases.append(Case((_normal(rng, *x_shape), _normal(rng, *k_shape), _normal(rng, k_shape[3])), dict(kwargs)))
    return cases
