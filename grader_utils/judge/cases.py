"""Test cases for the exercises: fixed basic ones and seeded random ones.

A case is the arguments of one call of a student's function. Cases never hold
expected answers: those come from :mod:`grader_utils.judge.truth` at grading time.
Random suites take a seed, so one notebook always gets the same cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "SUITES", "suite_cases"]


@dataclass(frozen=True)
class Case:
    """One call: ``func(*args, **kwargs)``."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def call_text(self, name: str) -> str:
        """``name(arg, ..., key=value)`` as a student would type it (arrays by shape)."""
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    return repr(value)


def _size(rng: np.random.Generator, low: int, high: int, pair_chance: float = 0.5) -> int | tuple[int, int]:
    """An int or an (int, int) pair drawn from [low, high]."""
    if rng.random() < pair_chance:
        return (int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1)))
    return int(rng.integers(low, high + 1))


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


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
        strides = _size(rng, 1, 4)
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
        strides = None if rng.random() < 0.4 else _size(rng, 1, 4)
        cases.append(
            Case(
                ((h, w, int(rng.integers(1, 17))), pool),
                {"strides": strides, "padding": str(rng.choice(["valid", "same"]))},
            )
        )
    return cases


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


def pool_values_same(rng: np.random.Generator, n: int = 30) -> list[Case]:
    """``'same'`` padding, including windows that hang over the bottom/right border."""
    cases = [Case((np.arange(25, dtype=np.float32).reshape(5, 5, 1) - 12, (2, 2)), {"padding": "same"})]
    for _ in range(n - 1):
        h, w, c = int(rng.integers(2, 12)), int(rng.integers(2, 12)), int(rng.integers(1, 4))
        pool = _size(rng, 2, 4)
        strides = None if rng.random() < 0.3 else _size(rng, 1, 3)
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": "same"}))
    return cases


def pool_values_random(rng: np.random.Generator, n: int = 60) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w, c = int(rng.integers(1, 14)), int(rng.integers(1, 14)), int(rng.integers(1, 5))
        ph, pw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        pool: int | tuple[int, int] = ph if ph == pw else (ph, pw)
        strides = None if rng.random() < 0.4 else _size(rng, 1, 3)
        padding = str(rng.choice(["valid", "same"]))
        cases.append(Case((_image(rng, h, w, c), pool), {"strides": strides, "padding": padding}))
    return cases


# --- 02: sequential_output_shapes / sequential_param_counts ---------------------------

LESSON_MODEL: list[tuple[str, dict[str, Any]]] = [
    ("conv2d", {"filters": 8, "kernel_size": (3, 3), "padding": "same", "activation": "relu"}),
    ("conv2d", {"filters": 5, "kernel_size": (3, 2), "strides": (2, 3), "padding": "valid", "activation": "relu"}),
    ("max_pooling2d", {"pool_size": (3, 3)}),
    ("flatten", {}),
    ("dense", {"units": 3, "activation": "softmax"}),
]


def sequential_basic() -> list[Case]:
    return [
        Case(((28, 56, 3), LESSON_MODEL)),
        Case(
            (
                (32, 32, 3),
                [
                    ("conv2d", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
                    ("max_pooling2d", {"pool_size": 2}),
                    ("conv2d", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
                    ("max_pooling2d", {"pool_size": 2}),
                    ("flatten", {}),
                    ("dense", {"units": 10}),
                ],
            )
        ),
        Case(((28, 28, 3), [("reshape", {"target_shape": (3, -1)}), ("dense", {"units": 4})])),
    ]


def _random_stack(rng: np.random.Generator, h: int, w: int) -> list[tuple[str, dict[str, Any]]]:
    """Conv/pool blocks that never shrink a side below 1, then a head."""
    layers: list[tuple[str, dict[str, Any]]] = []
    for _ in range(int(rng.integers(1, 5))):
        kind = str(rng.choice(["conv2d", "conv2d", "max_pooling2d", "average_pooling2d"]))
        padding = str(rng.choice(["valid", "same"]))
        if kind == "conv2d":
            k = (int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1)))
            s = _size(rng, 1, 3)
            kwargs: dict[str, Any] = {
                "filters": int(rng.integers(1, 33)),
                "kernel_size": k,
                "strides": s,
                "padding": padding,
            }
        else:
            k = (int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1)))
            kwargs = {"pool_size": k, "padding": padding}
            s = k
            if rng.random() < 0.5:
                s = _pair(_size(rng, 1, 3))
                kwargs["strides"] = s
        sh, sw = _pair(s)
        if padding == "same":
            h, w = -(-h // sh), -(-w // sw)
        else:
            h, w = (h - k[0]) // sh + 1, (w - k[1]) // sw + 1
        layers.append((kind, kwargs))
    layers.append(("flatten", {}))
    layers.append(("dense", {"units": int(rng.integers(1, 65))}))
    if rng.random() < 0.5:
        layers.append(("dense", {"units": int(rng.integers(1, 11)), "activation": "softmax"}))
    return layers


def sequential_random(rng: np.random.Generator, n: int = 25) -> list[Case]:
    cases = []
    for _ in range(n):
        h, w, c = int(rng.integers(6, 48)), int(rng.integers(6, 48)), int(rng.integers(1, 5))
        cases.append(Case(((h, w, c), _random_stack(rng, h, w))))
    return cases


def sequential_edge() -> list[Case]:
    """Keras behaviours the lesson points out: Dense on a 3-D tensor acts on the last
    axis; Reshape accepts -1; kernel sizes given as lists."""
    return [
        Case(((8, 8, 3), [("conv2d", {"filters": 4, "kernel_size": [3, 3]}), ("dense", {"units": 2})])),
        Case(((12, 10, 2), [("reshape", {"target_shape": (-1, 4)}), ("dense", {"units": 3})])),
        Case(
            (
                (7, 7, 1),
                [
                    ("average_pooling2d", {"pool_size": 2, "padding": "same"}),
                    ("flatten", {}),
                    ("reshape", {"target_shape": (4, 4)}),
                    ("dense", {"units": 5}),
                ],
            )
        ),
    ]


# --- 03: receptive_field ----------------------------------------------------------------

#: the conv/pool part of the TensorFlow CNN tutorial's model (03's suggested CIFAR-10 model)
CIFAR_STACK: list[tuple[str, dict[str, Any]]] = [
    ("conv2d", {"filters": 32, "kernel_size": (3, 3), "activation": "relu"}),
    ("max_pooling2d", {"pool_size": (2, 2)}),
    ("conv2d", {"filters": 64, "kernel_size": (3, 3), "activation": "relu"}),
    ("max_pooling2d", {"pool_size": (2, 2)}),
    ("conv2d", {"filters": 64, "kernel_size": (3, 3), "activation": "relu"}),
]


def receptive_field_basic() -> list[Case]:
    """The lesson's stacks, then ones where each classic mistake gives a wrong size."""
    return [
        Case(([("conv2d", {"filters": 8, "kernel_size": 3})],)),
        Case(([("conv2d", {"filters": 8, "kernel_size": 3}), ("conv2d", {"filters": 8, "kernel_size": 3})],)),
        Case((LESSON_MODEL[:3],)),
        Case((CIFAR_STACK,)),
        Case(
            (
                [
                    ("conv2d", {"filters": 16, "kernel_size": 5, "strides": 2, "padding": "same"}),
                    ("max_pooling2d", {"pool_size": 3, "strides": 2}),
                    ("conv2d", {"filters": 16, "kernel_size": [3, 1]}),
                    ("average_pooling2d", {"pool_size": (2, 3), "strides": (1, 2), "padding": "same"}),
                ],
            )
        ),
    ]


def receptive_field_random(rng: np.random.Generator, n: int = 30) -> list[Case]:
    """1 to 5 conv/pool layers, rectangular kernels and strides; strides stop growing once their
    product along an axis reaches 16, so regions stay under a few hundred pixels."""
    cases = []
    for _ in range(n):
        layers: list[tuple[str, dict[str, Any]]] = []
        jump = [1, 1]
        for _ in range(int(rng.integers(1, 6))):
            kind = str(rng.choice(["conv2d", "conv2d", "max_pooling2d", "average_pooling2d"]))
            kwargs: dict[str, Any] = {}
            size = _size(rng, 1, 5) if kind == "conv2d" else _size(rng, 1, 3)
            strides: Any = _size(rng, 1, 3)
            if kind == "conv2d":
                kwargs = {"filters": int(rng.integers(1, 65)), "kernel_size": size}
                if rng.random() < 0.6:
                    kwargs["strides"] = strides
                else:
                    strides = 1
            else:
                kwargs = {"pool_size": size}
                if rng.random() < 0.4:
                    strides = size  # Keras' default: strides = pool_size
                else:
                    kwargs["strides"] = strides
            if rng.random() < 0.5:
                kwargs["padding"] = str(rng.choice(["valid", "same"]))
            pair = _pair(strides)
            if max(j * s for j, s in zip(jump, pair)) > 16:  # keep the region small: no further stride
                if kind == "conv2d":
                    kwargs.pop("strides", None)
                    pair = (1, 1)
                else:
                    kwargs["strides"] = 1
                    pair = (1, 1)
            jump = [j * s for j, s in zip(jump, pair)]
            layers.append((kind, kwargs))
        cases.append(Case((layers,)))
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
    return [Case((int(rng.integers(1, 257)), int(rng.integers(1, 257)), _size(rng, 1, 11))) for _ in range(n)]


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


def conv_same(rng: np.random.Generator, n: int = 20) -> list[Case]:
    """'same' padding: odd and even kernels, strides 1 to 3."""
    return [_conv_case(rng, "same", _size(rng, 1, 3), square_channels=i % 3 == 0) for i in range(n)]


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
        _conv_case(rng, str(rng.choice(["valid", "same"])), _size(rng, 1, 3), square_channels=i % 4 == 0)
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


#: suite name -> factory taking a NumPy Generator (fixed suites ignore it)
SUITES: dict[str, dict[str, Callable[..., list[Case]]]] = {
    "conv2d_output_shape": {
        "basic": lambda rng, n=None: conv_shape_basic(),
        "same_strides": conv_shape_same_strided,
        "random": conv_shape_random,
    },
    "pool2d_output_shape": {
        "basic": lambda rng, n=None: pool_shape_basic(),
        "random": pool_shape_random,
    },
    "pool2d_values": {
        "basic": lambda rng, n=None: pool_values_basic(),
        "same_padding": pool_values_same,
        "random": pool_values_random,
    },
    "dense_param_count": {
        "basic": lambda rng, n=None: dense_params_basic(),
        "random": dense_params_random,
    },
    "conv2d_param_count": {
        "basic": lambda rng, n=None: conv_params_basic(),
        "random": conv_params_random,
    },
    "correlate2d": {
        "basic": lambda rng, n=None: correlate_basic(),
        "random": correlate_random,
    },
    "conv2d": {
        "basic": lambda rng, n=None: conv_basic(),
        "same_padding": conv_same,
        "strides": conv_strided,
        "random": conv_random,
        "large": conv_large,
    },
    "sequential": {
        "basic": lambda rng, n=None: sequential_basic(),
        "edge": lambda rng, n=None: sequential_edge(),
        "random": sequential_random,
    },
    "receptive_field": {
        "basic": lambda rng, n=None: receptive_field_basic(),
        "random": receptive_field_random,
    },
}


def suite_cases(family: str, suite: str, seed: int = 0, n: int | None = None) -> list[Case]:
    """The cases of one suite, e.g. ``suite_cases("pool2d_values", "random", seed=7)``."""
    try:
        factory = SUITES[family][suite]
    except KeyError:
        raise ValueError(
            f"no suite {suite!r} for {family!r}; known: { {f: sorted(s) for f, s in SUITES.items()} }"
        ) from None
    rng = np.random.default_rng(seed)
    return factory(rng) if n is None else factory(rng, n)
