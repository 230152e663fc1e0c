"""Small helpers for the arguments that Keras' 2-D layers take.

They normalise arguments the way Keras does; they do not compute any answer of
the exercises.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

__all__ = ["IntPair", "as_pair", "check_padding", "is_int", "same_padding_amounts"]

IntPair = tuple[int, int]


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools and floats."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_pair(value: int | tuple[int, int] | list[int], name: str = "value") -> IntPair:
    """``3 -> (3, 3)``, ``(3, 2) -> (3, 2)``: Keras' reading of ``kernel_size``,
    ``strides`` and ``pool_size``. Raises ``ValueError`` on anything else."""
    if is_int(value):
        return (int(value), int(value))  # type: ignore[arg-type]  # is_int checked it
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"{name} must be an int or a pair of ints, not {value!r}")


def check_padding(padding: str) -> str:
    """Keras accepts ``'valid'`` and ``'same'`` in any letter case."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    return padding.lower()


def same_padding_amounts(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) zero padding that Keras' ``'same'`` adds along one axis.

    The output has ceil(size / stride) positions; the padding needed is
    ``max((out - 1) * stride + kernel - size, 0)``, split with the smaller half first
    (the rule the lessons state; tests/test_figures.py checks it against Keras).
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_pads(
    x_shape: Sequence[int], k: IntPair, s: IntPair, swapped: bool = False
) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) of Keras' ``'same'`` padding of an image x: (H, W, ...), or with
    ``swapped`` the classic mistake that puts the larger half first (top/left): the feedback's variants."""
    amounts = [same_padding_amounts(int(n), kk, ss) for n, kk, ss in zip(x_shape[:2], k, s)]
    (top, bottom), (left, right) = ((b, a) if swapped else (a, b) for a, b in amounts)
    return (top, bottom), (left, right)
