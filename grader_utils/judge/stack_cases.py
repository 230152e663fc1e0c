"""Cases for the exercises on stacks of layers: Sequential output shapes and parameter counts (02)
and receptive fields (03), with the lessons' stacks (:data:`LESSON_MODEL`, :data:`CIFAR_STACK`).

A stack is a list of ``(kind, kwargs)`` layer specs as Keras reads them; a Sequential case is
``(input_shape, layers)`` with ``input_shape = (height, width, channels)``, a receptive-field case
``(layers,)``. Random stacks never shrink a side below 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .case import Case, random_size

__all__ = [
    "LESSON_MODEL",
    "CIFAR_STACK",
    "sequential_basic",
    "sequential_random",
    "sequential_edge",
    "receptive_field_basic",
    "receptive_field_random",
]


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


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
            s = random_size(rng, 1, 3)
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
                s = _pair(random_size(rng, 1, 3))
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
            size = random_size(rng, 1, 5) if kind == "conv2d" else random_size(rng, 1, 3)
            strides: Any = random_size(rng, 1, 3)
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
