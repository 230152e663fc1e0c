"""Name the likely mistake behind a wrong output shape of one Conv2D or pooling layer.

A shape is ``(height, width, channels)``. Each diagnosis recomputes the output shape as a typical
mistake would give it (sizes rounded the wrong way, padding or strides ignored...) and says which
mistake the student's shape matches: a diagnosis fires only when the variant differs from Keras'
shape *and* equals the student's. Functions return no key (``[]``, ``None``) when no known mistake
matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .hints import first_hint
from .shapes import as_pair

__all__ = ["conv_shape_hints", "pool_shape_hints", "diagnose_conv_shape", "diagnose_pool_shape"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _spatial_variants(size: int, k: int, s: int, padding: str, strides_given: bool, pool: bool) -> dict[str, int]:
    """Wrong output lengths along one axis, by mistake key."""
    v: dict[str, int] = {}
    if pool and not strides_given:
        v["pool_strides_none_as_one"] = size - k + 1 if padding == "valid" else size
    if pool and strides_given:
        v["pool_size_as_strides"] = (size - k) // k + 1 if padding == "valid" else _ceil_div(size, k)
    if padding == "same":
        v["same_symmetric_formula"] = (size + 2 * ((k - 1) // 2) - k) // s + 1
        v["same_floor"] = size // s
        v["same_ignores_strides"] = size
        v["same_as_valid"] = (size - k) // s + 1
    else:
        v["valid_as_same"] = _ceil_div(size, s)
        v["valid_rounded_up"] = _ceil_div(size - k, s) + 1
        v["valid_missing_plus_one"] = (size - k) // s
        v["valid_ignores_strides"] = size - k + 1
    return v


def _shape_hints(
    input_shape: Sequence[int],
    k: Any,
    s: Any,
    padding: str,
    got: Any,
    expected: tuple[int, ...],
    pool: bool,
    strides_given: bool,
) -> list[str]:
    """Keys of every known mistake that turns ``expected`` into ``got``, most specific first."""
    if not (isinstance(got, tuple) and len(got) == 3):
        return []
    try:
        got = tuple(int(v) for v in got)
    except (TypeError, ValueError):
        return []
    (kh, kw), (sh, sw) = as_pair(k), as_pair(s)
    padding = padding.lower()
    if got[:2] == expected[:2] and got[2] != expected[2]:
        if pool:
            return ["pool_changes_channels"]
        return ["channels_not_filters"] if got[2] == input_shape[2] else []
    keys = []
    if got[:2] == (expected[1], expected[0]) and expected[0] != expected[1]:
        keys.append("swapped_height_width")
    vh = _spatial_variants(input_shape[0], kh, sh, padding, strides_given, pool)
    vw = _spatial_variants(input_shape[1], kw, sw, padding, strides_given, pool)
    for key in vh:
        variant = (vh[key], vw[key])
        if variant != expected[:2] and variant == got[:2]:
            keys.append(key)
    return keys


def conv_shape_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``conv2d_output_shape`` result."""
    input_shape, _filters, kernel_size = args[:3]
    return _shape_hints(
        input_shape,
        kernel_size,
        kwargs.get("strides", (1, 1)),
        kwargs.get("padding", "valid"),
        got,
        expected,
        pool=False,
        strides_given=True,
    )


def pool_shape_hints(args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]) -> list[str]:
    """Keys of :data:`.hints.HINTS` that explain a wrong ``pool2d_output_shape`` result."""
    input_shape, pool_size = args[:2]
    strides = kwargs.get("strides")
    return _shape_hints(
        input_shape,
        pool_size,
        pool_size if strides is None else strides,
        kwargs.get("padding", "valid"),
        got,
        expected,
        pool=True,
        strides_given=strides is not None,
    )


def diagnose_conv_shape(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]
) -> str | None:
    """args/kwargs: a ``conv2d_output_shape`` call; got: its result; expected: Keras'.
    Returns the most specific hint, or ``None``."""
    return first_hint(conv_shape_hints(args, kwargs, got, expected))


def diagnose_pool_shape(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]
) -> str | None:
    """args/kwargs: a ``pool2d_output_shape`` call; got: its result; expected: Keras'.
    Returns the most specific hint, or ``None``."""
    return first_hint(pool_shape_hints(args, kwargs, got, expected))
