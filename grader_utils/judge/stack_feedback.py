"""Name the likely mistake behind a wrong answer about a stack of layers.

A stack is a list of ``(kind, kwargs)`` layer specs (``"conv2d"``, ``"max_pooling2d"``, ``"dense"``...)
as Keras reads them. The Sequential diagnoses name the first layer whose output shape or parameter
count is wrong and, where they can, why; the receptive-field diagnosis recomputes the ``(height,
width)`` each classic mistake gives (with Keras on a changed stack, or the wrong formula itself) and
fires only when that differs from Keras' answer *and* equals the student's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..i18n import tr
from . import truth
from .hints import hint as hint_text
from .shape_feedback import diagnose_conv_shape, diagnose_pool_shape
from .shapes import as_pair

__all__ = ["diagnose_sequential_shapes", "diagnose_sequential_params", "receptive_field_hints"]


# --- sequential stacks ---------------------------------------------------------------


def _layer_text(index: int, kind: str) -> str:
    return tr("layer {number} ({kind})", number=index + 1, kind=kind)


def diagnose_sequential_shapes(
    input_shape: Sequence[int],
    layers: Sequence[tuple[str, Mapping[str, Any]]],
    got: list[tuple[int, ...]],
    expected: list[tuple[int, ...]],
) -> str | None:
    """Name the first layer whose output shape is wrong and, where it can, why."""
    if not isinstance(got, list) or len(got) != len(expected):
        return None
    previous = tuple(input_shape)
    for i, ((kind, kwargs), g, e) in enumerate(zip(layers, got, expected)):
        g_tuple = tuple(g) if isinstance(g, (tuple, list)) else g
        if g_tuple != e:
            where = tr(
                "The first wrong shape is {layer}: got {got}, Keras gives {expected}.",
                layer=_layer_text(i, kind),
                got=g_tuple,
                expected=e,
            )
            hint = None
            if kind == "conv2d" and len(previous) == 3:
                hint = diagnose_conv_shape(
                    (previous, kwargs["filters"], kwargs["kernel_size"]),
                    {"strides": kwargs.get("strides", (1, 1)), "padding": kwargs.get("padding", "valid")},
                    g_tuple,
                    e,
                )
            elif kind.endswith("pooling2d") and len(previous) == 3:
                hint = diagnose_pool_shape(
                    (previous, kwargs["pool_size"]),
                    {"strides": kwargs.get("strides"), "padding": kwargs.get("padding", "valid")},
                    g_tuple,
                    e,
                )
            elif kind == "dense" and len(previous) > 1:
                hint = hint_text("dense_on_last_axis")
            return where + (" " + hint if hint else "")
        previous = e
    return None


def diagnose_sequential_params(
    input_shape: Sequence[int],
    layers: Sequence[tuple[str, Mapping[str, Any]]],
    got: list[int],
    expected: list[int],
    shapes: list[tuple[int, ...]],
) -> str | None:
    """Name the first layer whose parameter count is wrong and, where it can, why.

    shapes: Keras' output shapes of the layers (to know each layer's input)."""
    if not isinstance(got, list) or len(got) != len(expected):
        return None
    inputs = [tuple(input_shape)] + list(shapes[:-1])
    for i, ((kind, kwargs), g, e, inp) in enumerate(zip(layers, got, expected, inputs)):
        if g != e:
            where = tr(
                "The first wrong count is {layer}: got {got}, Keras gives {expected}.",
                layer=_layer_text(i, kind),
                got=g,
                expected=e,
            )
            hint = None
            if kind in ("conv2d", "dense"):
                units = kwargs["filters"] if kind == "conv2d" else kwargs["units"]
                if g == e - units:
                    hint = hint_text("params_no_bias")
                elif kind == "conv2d":
                    kh, kw = as_pair(kwargs["kernel_size"])
                    if g in (kh * kw * units + units, kh * kw * units):
                        hint = hint_text("conv_params_no_channels")
                elif kind == "dense" and len(inp) > 1 and g == int(np.prod(inp)) * units + units:
                    hint = hint_text("dense_on_last_axis")
            elif e == 0:
                hint = hint_text("params_in_pool")
            return where + (" " + hint if hint else "")
    return None


# --- receptive field -----------------------------------------------------------------


def _geometry(kind: str, kwargs: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(kernel, strides) of a conv/pool spec as Keras reads it (pooling strides default to pool_size)."""
    if kind == "conv2d":
        return as_pair(kwargs["kernel_size"]), as_pair(kwargs.get("strides", 1))
    k = as_pair(kwargs["pool_size"])
    return k, (k if kwargs.get("strides") is None else as_pair(kwargs["strides"]))


def _rf_variants(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Callable[[], tuple[int, ...]]]:
    """The (height, width) each classic mistake gives: Keras' answer for a changed stack (strides of 1,
    no pooling layers) or the wrong formula itself (kernel sizes multiplied, each layer's own stride)."""
    geometry = [_geometry(kind, kwargs) for kind, kwargs in layers]
    unit = [(kind, {**kwargs, "strides": 1}) for kind, kwargs in layers]
    return {
        "rf_pooling_skipped": lambda: truth.receptive_field([spec for spec in layers if spec[0] == "conv2d"]),
        "rf_strides_ignored": lambda: truth.receptive_field(unit),
        "rf_own_stride": lambda: tuple(1 + sum((k[a] - 1) * s[a] for k, s in geometry) for a in (0, 1)),
        "rf_kernels_multiplied": lambda: tuple(int(np.prod([k[a] for k, _ in geometry])) for a in (0, 1)),
    }


def receptive_field_hints(
    layers: Sequence[tuple[str, Mapping[str, Any]]], got: Any, expected: tuple[int, int]
) -> list[str]:
    """Keys of :data:`HINTS` that explain a wrong ``receptive_field(layers)`` result ``got``;
    expected: Keras' ``(height, width)``."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return []
    try:
        got = tuple(int(v) for v in got)
    except (TypeError, ValueError):
        return []
    expected = (int(expected[0]), int(expected[1]))
    keys = []
    if got == expected[::-1] and expected[0] != expected[1]:
        keys.append("swapped_height_width")
    for key, compute in _rf_variants(layers).items():
        variant = tuple(int(v) for v in compute())
        if variant != expected and variant == got:
            keys.append(key)
    return keys
