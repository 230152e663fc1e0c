"""Cases for the one-layer arithmetic exercises: output shapes of Conv2D and pooling (02) and
parameter counts of Dense and Conv2D (01).

A shape argument is ``(height, width, channels)``; sizes are an int or an ``(int, int)`` pair, as Keras
takes them. Fixed suites first, then seeded random ones.
"""

from __future__ import annotations

import numpy as np

from .case import Case, random_size

__all__ = [
    "conv_shape_basic",
    "conv_shape_same_strided",
    "conv_shape_random",
    "pool_shape_basic",
    "pool_shape_random",
    "dense_params_basic",
    "dense_params_random",
    "conv_params_basic",
    "conv_params_random",
]


# --- 02: conv2d_output_shape ---------------------------------------------------------


def conv_shape_basic() -> list[Case]:
    return [
        Case(((28, 56, 3), 8, (3, 3)), {"strides": (1, 1), "padding": "same"}),
        Case(((28, 56, 8), 5, (3, 2)), {"strides": (2, 3), "padding": "valid"}),
        Case(((32, 32, 3), 32, 3)),
        Case(((32, 32, 3), 16, 5), {"padding": "same"}),
        Case(((200, 200, 3), 64, (7, 7)), {"strides": (2, 2), "padding": "valid"}),
        Case(((10, 10, 1), 4, (3, 3)), {"strides": (1, 1), "padding": "valid"}),
        # 'same' with strides > 1: an even kernel (where the old symmetric formula gets the size wrong)
        # and an odd one (where it gets the size right)
        Case(((5, 5, 1), 1, 2), {"strides": 2, "padding": "same"}),
        Case(((27, 28, 3), 4, (4, 3)), {"strides": (2, 3), "padding": "same"}),
        Case(((6, 6, 1), 1, 3), {"strides": 2, "padding": "same"}),
    ]


def conv_shape_same_strided(rng: np.random.Generator, n: int = 40) -> list[Case]:
    """``'same'`` with strides > 1, odd and even kernels, sizes not divisible by the stride."""
    cases = []
    for _ in range(n):
        stride = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        h, w = (int(rng.integers(5, 60)) for _ in range(2))
        kernel = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        cases.append(
            Case(
                ((h, w, int(rng.integers(1, 5))), int(rng.integers(1, 65)), kernel),
                {"strides": stride, "padding": "same"},
            )
        )
    return cases


def conv_shape_random(rng: np.random.Generator, n: int = 200) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w = int(rng.integers(1, 80)), int(rng.integers(1, 80))
        kh, kw = int(rng.integers(1, min(h, 9) + 1)), int(rng.integers(1, min(w, 9) + 1))
        kernel: int | tuple[int, int] = kh if (kh == kw and rng.random() < 0.5) else (kh, kw)
        strides = random_size(rng, 1, 4)
        cases.append(
            Case(
                ((h, w, int(rng.integers(1, 9))), int(rng.integers(1, 129)), kernel),
                {"strides": strides, "padding": str(rng.choice(["valid", "same"]))},
            )
        )
    return cases


# --- 02: pool2d_output_shape ---------------------------------------------------------


def pool_shape_basic() -> list[Case]:
    return [
        Case(((13, 19, 5), (3, 3))),
        Case(((15, 15, 1), (2, 2))),
        Case(((32, 32, 16), 2), {"strides": None, "padding": "valid"}),
        Case(((15, 15, 1), (2, 2)), {"padding": "same"}),
        Case(((28, 28, 8), (3, 3)), {"strides": (1, 1), "padding": "valid"}),
        Case(((9, 12, 4), (2, 3)), {"strides": (2, 2), "padding": "same"}),
    ]


def pool_shape_random(rng: np.random.Generator, n: int = 200) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w = int(rng.integers(1, 70)), int(rng.integers(1, 70))
        ph, pw = int(rng.integers(1, min(h, 6) + 1)), int(rng.integers(1, min(w, 6) + 1))
        pool: int | tuple[int, int] = ph if (ph == pw and rng.random() < 0.5) else (ph, pw)
        strides = None if rng.random() < 0.4 else random_size(rng, 1, 4)
        cases.append(
            Case(
                ((h, w, int(rng.integers(1, 17))), pool),
                {"strides": strides, "padding": str(rng.choice(["valid", "same"]))},
            )
        )
    return cases


# --- 01: parameter counts ------------------------------------------------------------


def dense_params_basic() -> list[Case]:
    return [
        Case(((200, 200, 3), 1)),
        Case(((28, 28, 1), 128)),
        Case(((32, 32, 3), 10)),
        Case(((120,), 3)),
        Case(((4, 6, 5), 3)),
    ]


def dense_params_random(rng: np.random.Generator, n: int = 40) -> list[Case]:
    cases = []
    for _ in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 65, size=int(rng.integers(1, 4))))
        cases.append(Case((shape, int(rng.integers(1, 513)))))
    return cases


def conv_params_basic() -> list[Case]:
    return [Case((3, 32, 3)), Case((3, 8, (3, 3))), Case((8, 5, (3, 2))), Case((64, 64, (1, 1))), Case((1, 16, 5))]


def conv_params_random(rng: np.random.Generator, n: int = 40) -> list[Case]:
    return [Case((int(rng.integers(1, 257)), int(rng.integers(1, 257)), random_size(rng, 1, 11))) for _ in range(n)]
