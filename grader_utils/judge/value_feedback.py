"""Name the likely mistake behind a wrong array: pooling, convolution and cross-correlation.

Each diagnosis recomputes the answer as a typical mistake would give it. The variants are computed by
Keras itself on modified inputs (a padded image, a flipped kernel, swapped strides...), so no NumPy
solution of an exercise lives in this package. A diagnosis fires only when the variant differs from
the right answer *and* equals the student's. Layouts are Keras': an image ``x`` is ``(H, W, C)``, a
kernel ``(kh, kw, C_in, C_out)``, a bias ``(C_out,)``; ``correlate2d`` works on 2-D ``(H, W)`` arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import truth
from .compare import ATOL, RTOL
from .hints import first_hint, hint
from .shape_feedback import pool_shape_hints
from .shapes import as_pair, same_pads

__all__ = ["pool_value_hints", "diagnose_pool_values", "conv_value_hints", "correlate_hints"]


# --- pooled values -------------------------------------------------------------------


def _padded(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], extra_first: bool, value: float) -> np.ndarray:
    return np.pad(x, (*same_pads(x.shape, k, s, swapped=extra_first), (0, 0)), constant_values=value)


def _average_ignoring_padding(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], extra_first: bool) -> np.ndarray:
    total = truth.average_pool2d(_padded(x, k, s, extra_first, 0.0), k, s, "valid")
    count = truth.average_pool2d(_padded(np.ones_like(x), k, s, extra_first, 0.0), k, s, "valid")
    return (total / count).astype(np.float32)


def _computed(
    variants: Mapping[str, Callable[[], np.ndarray]], shape: tuple[int, ...]
) -> Iterator[tuple[str, np.ndarray]]:
    """Each variant that Keras can compute here and that has ``shape``."""
    for key, compute in variants.items():
        try:
            variant = compute()
        except Exception:  # Keras cannot compute this variant here (e.g. an empty output): no diagnosis
            continue
        if variant.shape == shape:
            yield key, variant


def _pool_variants(
    kind: str, x: np.ndarray, pool_size: Any, strides: Any, padding: str
) -> dict[str, Callable[[], np.ndarray]]:
    k = as_pair(pool_size)
    s = k if strides is None else as_pair(strides)
    padding = padding.lower()
    run = truth.max_pool2d if kind == "max" else truth.average_pool2d
    v: dict[str, Callable[[], np.ndarray]] = {}
    if strides is None:
        v["pool_strides_none_as_one"] = lambda: run(x, k, (1, 1), padding)
    elif s != k:
        v["pool_size_as_strides"] = lambda: run(x, k, None, padding)
    if k[0] != k[1] or s[0] != s[1]:
        v["swapped_height_width"] = lambda: run(x, k[::-1], s[::-1], padding)
    if padding == "same":
        v["same_as_valid"] = lambda: run(x, k, s, "valid")
        # the old tutorials' padding: (k - 1) // 2 on each side (only where the window fits the padded
        # input: a 'valid' window larger than its input can kill TensorFlow, see tests/test_value_feedback.py)
        sym = (((k[0] - 1) // 2,) * 2, ((k[1] - 1) // 2,) * 2, (0, 0))
        symmetric_fits = all(n + 2 * p[0] >= kk for n, p, kk in zip(x.shape[:2], sym, k))
        if kind == "max" and symmetric_fits:
            v["same_symmetric_formula"] = lambda: run(np.pad(x, sym, constant_values=-np.inf), k, s, "valid")
        if kind == "max":
            v["same_extra_top_left"] = lambda: run(_padded(x, k, s, True, -np.inf), k, s, "valid")
            v["max_pads_zeros"] = lambda: run(_padded(x, k, s, False, 0.0), k, s, "valid")
        else:
            v["same_extra_top_left"] = lambda: _average_ignoring_padding(x, k, s, True)
            v["average_counts_padding"] = lambda: run(_padded(x, k, s, False, 0.0), k, s, "valid")
            if symmetric_fits:
                v["average_counts_padding_symmetric"] = lambda: run(np.pad(x, sym), k, s, "valid")
            v["average_counts_padding_top_left"] = lambda: run(_padded(x, k, s, True, 0.0), k, s, "valid")
    return v


def pool_value_hints(
    kind: str, args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray
) -> list[str]:
    """Keys of :data:`HINTS` that explain a wrong ``max_pool2d``/``average_pool2d`` array.

    kind: 'max' or 'average'; args/kwargs: the call ``(x, pool_size, strides=, padding=)``."""
    if not isinstance(got, np.ndarray) or not np.issubdtype(got.dtype, np.number):
        return []
    x, pool_size = args[:2]
    x = np.asarray(x, dtype=np.float32)
    if got.shape != expected.shape and got.ndim == 3:
        shape_keys = pool_shape_hints((x.shape, pool_size), kwargs, tuple(got.shape), tuple(expected.shape))
        if shape_keys:
            return shape_keys
    keys: list[str] = []
    matched: list[np.ndarray] = []
    for key, variant in _computed(
        _pool_variants(kind, x, pool_size, kwargs.get("strides"), kwargs.get("padding", "valid")), got.shape
    ):
        if variant.shape == expected.shape and np.allclose(variant, expected, rtol=RTOL, atol=ATOL):
            continue
        if any(np.allclose(variant, m, rtol=RTOL, atol=ATOL) for m in matched):
            continue  # the same array as a mistake already named (e.g. even padding: top/left is no extra)
        if np.allclose(got.astype(np.float64), variant, rtol=RTOL, atol=ATOL):
            matched.append(variant)
            new = {
                "average_counts_padding_top_left": ["average_counts_padding", "same_extra_top_left"],
                "average_counts_padding_symmetric": ["same_symmetric_formula", "average_counts_padding"],
            }.get(key, [key])
            keys += [k for k in new if k not in keys]
    return keys


def diagnose_pool_values(
    kind: str, args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray
) -> str | None:
    """kind: 'max' or 'average'; args/kwargs: the call ``(x, pool_size, strides=, padding=)``;
    got: the student's array; expected: Keras' array. Returns a hint or ``None``."""
    keys = pool_value_hints(kind, args, kwargs, got, expected)
    if keys[:2] == ["average_counts_padding", "same_extra_top_left"]:
        return hint("average_counts_padding") + " " + hint("same_extra_top_left")
    return first_hint(keys)


# --- convolution values ------------------------------------------------------------


def _conv_variants(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any, padding: str
) -> dict[str, Callable[[], np.ndarray]]:
    s = as_pair(strides)
    padding = padding.lower()
    kh, kw, c_in, c_out = kernel.shape
    zero = np.zeros_like(bias)
    run = truth.conv2d
    v: dict[str, Callable[[], np.ndarray]] = {
        "flipped_kernel": lambda: run(x, kernel[::-1, ::-1], bias, s, padding),
        "missing_bias": lambda: run(x, kernel, zero, s, padding),
        "applied_relu": lambda: np.maximum(run(x, kernel, bias, s, padding), 0),
    }
    if s != (1, 1):
        v["strides_ignored"] = lambda: run(x, kernel, bias, (1, 1), padding)
    if s[0] != s[1]:
        v["strides_swapped"] = lambda: run(x, kernel, bias, s[::-1], padding)
    if c_in == c_out and c_in > 1:
        v["channels_swapped"] = lambda: run(x, kernel.transpose(0, 1, 3, 2), bias, s, padding)
    if kh == kw and kh > 1:
        v["kernel_transposed"] = lambda: run(x, kernel.transpose(1, 0, 2, 3), bias, s, padding)
    if padding == "same":
        v["same_as_valid"] = lambda: run(x, kernel, bias, s, "valid")
        sym = ((kh - 1) // 2, (kw - 1) // 2)
        v["conv_same_symmetric"] = lambda: run(
            np.pad(x, ((sym[0], sym[0]), (sym[1], sym[1]), (0, 0))), kernel, bias, s, "valid"
        )
        v["same_extra_top_left"] = lambda: run(_padded(x, (kh, kw), s, True, 0.0), kernel, bias, s, "valid")
    return v


def conv_value_hints(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: np.ndarray, rtol: float, atol: float
) -> list[str]:
    """Keys of :data:`HINTS` that explain a wrong ``conv2d(x, kernel, bias, strides, padding)`` array.

    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,)."""
    if not isinstance(got, np.ndarray) or not np.issubdtype(got.dtype, np.number) or got.ndim != 3:
        return []
    x, kernel, bias = (np.asarray(a, dtype=np.float32) for a in args[:3])
    wrong_shape = got.shape != expected.shape
    keys = []
    for key, variant in _computed(
        _conv_variants(x, kernel, bias, kwargs.get("strides", (1, 1)), kwargs.get("padding", "valid")), got.shape
    ):
        if (
            wrong_shape
            or not np.allclose(variant, expected, rtol=rtol, atol=atol)
            and np.allclose(got.astype(np.float64), variant, rtol=rtol, atol=atol)
        ):  # the shape alone tells the mistake, even if the values have a second one
            keys.append(key)
    near = all(abs(g - e) <= 1 for g, e in zip(got.shape[:2], expected.shape[:2]))
    if not keys and wrong_shape and got.shape[2] == expected.shape[2] and near:
        keys.append("off_by_one")
    return keys


def correlate_hints(args: Sequence[Any], got: Any, expected: np.ndarray, rtol: float, atol: float) -> list[str]:
    """Keys of :data:`HINTS` that explain a wrong ``correlate2d(image, kernel)`` array."""
    if not isinstance(got, np.ndarray) or got.ndim != 2:
        return []
    image, kernel = (np.asarray(a, dtype=np.float32) for a in args[:2])
    if got.shape != expected.shape:
        close = all(abs(g - e) <= 1 for g, e in zip(got.shape, expected.shape))
        return ["off_by_one"] if close else []
    keys = []
    if kernel.shape[0] > 1 or kernel.shape[1] > 1:
        flipped = truth.correlate2d(image, kernel[::-1, ::-1])
        if not np.allclose(flipped, expected, rtol=rtol, atol=atol) and np.allclose(
            got.astype(np.float64), flipped, rtol=rtol, atol=atol
        ):
            keys.append("flipped_kernel")
    if kernel.shape[0] == kernel.shape[1] > 1:
        transposed = truth.correlate2d(image, kernel.T)
        if not np.allclose(transposed, expected, rtol=rtol, atol=atol) and np.allclose(
            got.astype(np.float64), transposed, rtol=rtol, atol=atol
        ):
            keys.append("kernel_transposed")
    return keys
