"""Name the likely mistake behind a wrong answer.

Each diagnosis recomputes the answer as a typical mistake would give it and
says which mistake the student's answer matches. Array variants are computed by
Keras itself on modified inputs (a padded image, swapped sizes...), so no
NumPy solution of an exercise lives in this package. A diagnosis fires only
when the variant differs from the right answer *and* equals the student's.
Functions return ``None`` when no known mistake matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import truth
from .compare import ATOL, RTOL
from .shapes import as_pair, same_padding_amounts

__all__ = [
    "conv_shape_hints",
    "pool_shape_hints",
    "pool_value_hints",
    "conv_value_hints",
    "correlate_hints",
    "diagnose_conv_shape",
    "diagnose_pool_shape",
    "diagnose_pool_values",
    "diagnose_sequential_shapes",
    "diagnose_sequential_params",
    "receptive_field_hints",
    "HINTS",
]

#: Every message a diagnosis can give, by key (tests check each one can fire).
HINTS: dict[str, str] = {
    "same_floor": "With padding='same' Keras gives ceil(size / stride): a last, partial window still "
    "produces an output. You rounded down.",
    "same_symmetric_formula": "You used pad = (kernel - 1) // 2 on both sides, as older tutorials do. That "
    "gives Keras' output size for odd kernels (at any stride) but not for even ones. "
    "Keras' 'same' pads only as much as ceil(size / stride) outputs need, a total of "
    "max((out - 1) * stride + kernel - size, 0), with floor(total / 2) at the "
    "top/left and the rest at the bottom/right: with a stride > 1 even an output of "
    "the right size can hold the wrong windows.",
    "same_ignores_strides": "With padding='same' the output keeps the input size only when the stride is 1; "
    "it is ceil(size / stride).",
    "valid_as_same": "padding='valid' adds no padding: windows must fit inside the input, so the output "
    "shrinks to floor((size - kernel) / stride) + 1.",
    "valid_rounded_up": "With padding='valid' a last window that does not fit is dropped: round "
    "(size - kernel) / stride down, then add 1.",
    "valid_missing_plus_one": "You forgot the +1: the first window position counts too, so the output is "
    "floor((size - kernel) / stride) + 1.",
    "valid_ignores_strides": "You ignored the strides: with stride s only every s-th window position is used.",
    "swapped_height_width": "Height and width are swapped somewhere: in Keras, sizes like (3, 2) mean "
    "(rows, columns), i.e. (height, width).",
    "channels_not_filters": "The last dimension of a Conv2D output is the number of filters, not the number "
    "of input channels.",
    "pool_changes_channels": "Pooling works on each channel separately, so the number of channels stays the same.",
    "pool_strides_none_as_one": "strides=None means strides = pool_size (windows that do not overlap), "
    "not a stride of 1.",
    "pool_size_as_strides": "You used pool_size where strides was meant: when strides are given, the window "
    "moves by strides, whatever its size.",
    "same_extra_top_left": "Your 'same' padding puts the extra row/column at the top/left. Keras (like "
    "TensorFlow) puts floor(total / 2) at the top/left and the rest at the bottom/right.",
    "average_counts_padding": "Your average counts the padded zeros. In Keras' AveragePooling2D with "
    "padding='same' a border window averages only the input values inside it.",
    "max_pads_zeros": "Your 'same' max pooling pads with zeros, so a border window of negative values "
    "returns 0. Padding must never win a max: ignore it (or pad with -inf).",
    "same_as_valid": "The output has the 'valid' shape although padding='same' was asked for.",
    "params_no_bias": "The parameter count is short by exactly the number of biases: a Conv2D or Dense layer "
    "has one bias per filter/unit.",
    "params_in_pool": "Pooling, Flatten and Reshape layers have no parameters (0).",
    "conv_params_no_channels": "A Conv2D kernel spans all input channels: kernel_h * kernel_w * channels_in "
    "weights per filter, plus one bias.",
    "dense_on_last_axis": "Dense on a tensor with more than one axis acts on the last axis only "
    "(each position gets its own copy of the same units).",
    "flipped_kernel": "Your result is a true convolution: the kernel is flipped (rotated by 180 degrees). "
    "Keras' Conv2D computes cross-correlation: out[i, j] = sum of x[i + a, j + b] * k[a, b], "
    "with no flip.",
    "missing_bias": "Your result is right except for the bias: add bias[c_out] to every value of output channel c_out.",
    "applied_relu": "Your result has the negative values set to 0, as a ReLU would. The exercise asks for "
    "Conv2D without activation.",
    "conv_same_symmetric": "Your 'same' padding pads (kernel - 1) // 2 on each side. Keras pads a total of "
    "max((out - 1) * stride + kernel - size, 0) with floor(total / 2) before and the rest "
    "after (bottom/right).",
    "strides_ignored": "Your output is the stride-1 result: apply the strides, moving the window by "
    "strides[0] rows and strides[1] columns.",
    "strides_swapped": "Your strides act on the wrong axes: strides = (rows, columns), i.e. (height, width).",
    "channels_swapped": "You index the kernel as kernel[:, :, c_out, c_in]. Keras' layout is "
    "(kh, kw, C_in, C_out): kernel[:, :, c_in, c_out].",
    "kernel_transposed": "You index the kernel as kernel[b, a] (columns first). Its layout is "
    "(kh, kw, ...): kernel[a, b] multiplies x[i + a, j + b].",
    "rf_strides_ignored": "You added up (k - 1) over the layers and ignored the strides. After a layer with "
    "stride s, one step of the next layer is s input pixels: each layer adds (k - 1) * j, "
    "where the jump j is the product of the strides of the layers before it.",
    "rf_kernels_multiplied": "You multiplied the kernel sizes. Receptive fields grow by adding, not multiplying: "
    "each layer adds (k - 1) * j, where the jump j is the product of the strides of "
    "the layers before it.",
    "rf_pooling_skipped": "You left out the pooling layers. A pooling window is a window too: it adds "
    "(pool_size - 1) * j, and its strides (by default the pool size) multiply the jump j "
    "of every later layer.",
    "rf_own_stride": "You multiplied each layer's (k - 1) by its own stride. What counts is the jump j of its "
    "input, the product of the strides of the layers before it: first r += (k - 1) * j, then "
    "j *= s.",
    "off_by_one": "The output size is off by one. Along each axis there are "
    "floor((size after padding - kernel) / stride) + 1 window positions: the +1 counts the first "
    "one (for 'valid' and stride 1: H - kh + 1 rows, W - kw + 1 columns).",
}


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# --- shapes -----------------------------------------------------------------------


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
    """Keys of :data:`HINTS` that explain a wrong ``conv2d_output_shape`` result."""
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
    """Keys of :data:`HINTS` that explain a wrong ``pool2d_output_shape`` result."""
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


def _first(keys: list[str]) -> str | None:
    return HINTS[keys[0]] if keys else None


def diagnose_conv_shape(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]
) -> str | None:
    """args/kwargs: a ``conv2d_output_shape`` call; got: its result; expected: Keras'.
    Returns the most specific hint, or ``None``."""
    return _first(conv_shape_hints(args, kwargs, got, expected))


def diagnose_pool_shape(
    args: Sequence[Any], kwargs: Mapping[str, Any], got: Any, expected: tuple[int, ...]
) -> str | None:
    """args/kwargs: a ``pool2d_output_shape`` call; got: its result; expected: Keras'.
    Returns the most specific hint, or ``None``."""
    return _first(pool_shape_hints(args, kwargs, got, expected))


# --- pooled values -------------------------------------------------------------------


def _same_pads(size: int, k: int, s: int, extra_first: bool) -> tuple[int, int]:
    """Keras' 'same' padding along one axis, or (extra_first) the mistake that puts the extra first."""
    before, after = same_padding_amounts(size, k, s)
    return (after, before) if extra_first else (before, after)


def _padded(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], extra_first: bool, value: float) -> np.ndarray:
    ph = _same_pads(x.shape[0], k[0], s[0], extra_first)
    pw = _same_pads(x.shape[1], k[1], s[1], extra_first)
    return np.pad(x, (ph, pw, (0, 0)), constant_values=value)


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
        # input: a 'valid' window larger than its input can kill TensorFlow, see tests/test_feedback.py)
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
        return HINTS["average_counts_padding"] + " " + HINTS["same_extra_top_left"]
    return _first(keys)


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


# --- sequential stacks ---------------------------------------------------------------


def _layer_text(index: int, kind: str) -> str:
    return f"layer {index + 1} ({kind})"


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
            where = f"The first wrong shape is {_layer_text(i, kind)}: got {g_tuple}, Keras gives {e}."
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
                hint = HINTS["dense_on_last_axis"]
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
            where = f"The first wrong count is {_layer_text(i, kind)}: got {g}, Keras gives {e}."
            hint = None
            if kind in ("conv2d", "dense"):
                units = kwargs["filters"] if kind == "conv2d" else kwargs["units"]
                if g == e - units:
                    hint = HINTS["params_no_bias"]
                elif kind == "conv2d":
                    kh, kw = as_pair(kwargs["kernel_size"])
                    if g in (kh * kw * units + units, kh * kw * units):
                        hint = HINTS["conv_params_no_channels"]
                elif kind == "dense" and len(inp) > 1 and g == int(np.prod(inp)) * units + units:
                    hint = HINTS["dense_on_last_axis"]
            elif e == 0:
                hint = HINTS["params_in_pool"]
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
