"""One case: the arguments of one call of a student's function, and how it reads.

A case never holds an expected answer: those come from :mod:`grader_utils.judge.truth` at grading
time. :func:`random_size` draws the kernel, pool and stride sizes the random suites use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "random_size"]


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


def random_size(rng: np.random.Generator, low: int, high: int, pair_chance: float = 0.5) -> int | tuple[int, int]:
    """An int or an (int, int) pair drawn from [low, high]."""
    if rng.random() < pair_chance:
        return (int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1)))
    return int(rng.integers(low, high + 1))
