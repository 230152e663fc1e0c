"""Ground truth from TensorFlow/Keras.

Every expected answer the course grades against comes from here, and every
function here asks Keras: a real layer, or the op a layer's ``call`` runs, or a count
derived from small real layers (tests/test_truth.py checks each shortcut against full
layers and models). Inputs and outputs are plain data:
tuples of ints, lists, and ``np.ndarray``; shapes never include the batch axis.

Layout conventions (Keras' default ``channels_last``):
    x:      (H, W, C)              one image, no batch axis
    kernel: (kh, kw, C_in, C_out)  as ``Conv2D.kernel`` stores it
    bias:   (C_out,)
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..quiet import quiet_tensorflow, silenced_stderr
from .shapes import IntPair, as_pair, check_padding

__all__ = [
    "LAYER_KINDS",
    "conv2d_output_shape",
    "pool2d_output_shape",
    "pool2d",
    "max_pool2d",
    "average_pool2d",
    "conv2d",
    "correlate2d",
    "dense_param_count",
    "conv2d_param_count",
    "make_layer",
    "build_sequential",
    "sequential_summary",
    "RECEPTIVE_FIELD_KINDS",
    "receptive_field",
]

#: The layer kinds of the ``(kind, kwargs)`` specs used by the course, mapped
#: to the Keras class names they stand for.
LAYER_KINDS: dict[str, str] = {
    "conv2d": "Conv2D",
    "max_pooling2d": "MaxPooling2D",
    "average_pooling2d": "AveragePooling2D",
    "flatten": "Flatten",
    "reshape": "Reshape",
    "dense": "Dense",
}


def _key(value: Any) -> Any:
    """A hashable stand-in for an argument (arrays by shape, dtype and content)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str, hashlib.sha1(np.ascontiguousarray(value).tobytes()).digest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _key(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def _memo(func: Callable[..., Any]) -> Callable[..., Any]:
    """Remember Keras' answers: a class is graded on the same cases, so each is computed once.
    Arrays are returned as copies, so a caller cannot change the remembered answer."""
    cache: dict[Any, Any] = {}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = (_key(args), _key(kwargs))
        if key not in cache:
            if len(cache) > 20_000:
                cache.clear()
            cache[key] = func(*args, **kwargs)
        return copy.deepcopy(cache[key])

    return wrapper


def _shape(keras_shape: Sequence[Any]) -> tuple[int, ...]:
    """Drop the batch axis and turn dimensions into plain ``int``."""
    return tuple(int(d) for d in keras_shape[1:])


@_memo
def conv2d_output_shape(
    input_shape: Sequence[int],
    filters: int,
    kernel_size: int | IntPair,
    strides: int | IntPair = (1, 1),
    padding: str = "valid",
) -> tuple[int, int, int]:
    """Output shape ``(H_out, W_out, filters)`` of ``keras.layers.Conv2D`` for an
    input of shape ``(H, W, C)``. Raises ``ValueError`` where Keras does (an
    empty output)."""
    keras = quiet_tensorflow()
    layer = keras.layers.Conv2D(filters, as_pair(kernel_size), strides=as_pair(strides), padding=check_padding(padding))
    return _shape(layer.compute_output_shape((None, *input_shape)))  # type: ignore[return-value]


@_memo
def pool2d_output_shape(
    input_shape: Sequence[int],
    pool_size: int | IntPair,
    strides: int | IntPair | None = None,
    padding: str = "valid",
) -> tuple[int, int, int]:
    """Output shape of ``keras.layers.MaxPooling2D`` (``AveragePooling2D`` has the
    same) for an input ``(H, W, C)``. ``strides=None`` means ``pool_size``."""
    keras = quiet_tensorflow()
    layer = keras.layers.MaxPooling2D(
        as_pair(pool_size),
        strides=None if strides is None else as_pair(strides),
        padding=check_padding(padding),
    )
    return _shape(layer.compute_output_shape((None, *input_shape)))  # type: ignore[return-value]


@_memo
def pool2d(
    x: np.ndarray,
    kind: str,
    pool_size: int | IntPair,
    strides: int | IntPair | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Run ``MaxPooling2D`` (``kind="max"``) or ``AveragePooling2D`` (``"average"``).

    x: (H, W, C) float32.  Returns (H_out, W_out, C) float32.
    """
    keras = quiet_tensorflow()
    classes = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
    if kind not in classes:
        raise ValueError(f"kind must be 'max' or 'average', not {kind!r}")
    x = np.asarray(x, dtype=np.float32)
    pool2d_output_shape(x.shape, pool_size, strides, padding)  # ValueError for an empty output, as Keras says
    layer = classes[kind](
        as_pair(pool_size),
        strides=None if strides is None else as_pair(strides),
        padding=check_padding(padding),
    )
    with silenced_stderr():
        out = layer(x[None])
    return np.asarray(keras.ops.convert_to_numpy(out))[0]


def max_pool2d(
    x: np.ndarray, pool_size: int | IntPair, strides: int | IntPair | None = None, padding: str = "valid"
) -> np.ndarray:
    """``keras.layers.MaxPooling2D`` on one image. x: (H, W, C) -> (H_out, W_out, C)."""
    return pool2d(x, "max", pool_size, strides, padding)


def average_pool2d(
    x: np.ndarray, pool_size: int | IntPair, strides: int | IntPair | None = None, padding: str = "valid"
) -> np.ndarray:
    """``keras.layers.AveragePooling2D`` on one image. x: (H, W, C) -> (H_out, W_out, C)."""
    return pool2d(x, "average", pool_size, strides, padding)


@_memo
def conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray,
    strides: int | IntPair = (1, 1),
    padding: str = "valid",
) -> np.ndarray:
    """``keras.layers.Conv2D`` (no activation) with the given weights on one image.

    x: (H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,).
    Returns (H_out, W_out, C_out) float32.

    Computed as ``Conv2D.call`` computes it, ``keras.ops.conv`` then the bias added,
    without building a layer per case (a test checks it equals a real layer's output).
    """
    keras = quiet_tensorflow()
    kernel = np.asarray(kernel, dtype=np.float32)
    bias = np.asarray(bias, dtype=np.float32)
    kh, kw, c_in, c_out = kernel.shape
    x = np.asarray(x, dtype=np.float32)
    conv2d_output_shape(x.shape, c_out, (kh, kw), strides, padding)  # ValueError for an empty output
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), not {bias.shape}")
    with silenced_stderr():
        out = keras.ops.conv(x[None], kernel, strides=as_pair(strides), padding=check_padding(padding))
        out = keras.ops.add(out, bias)
    return np.asarray(keras.ops.convert_to_numpy(out))[0]


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D cross-correlation, 'valid', stride 1, as a one-filter ``Conv2D`` without bias computes it.

    image: (H, W); kernel: (kh, kw).  Returns (H - kh + 1, W - kw + 1) float32.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    out = conv2d(
        np.asarray(image, dtype=np.float32)[..., None],
        kernel[:, :, None, None],
        np.zeros(1, np.float32),
        (1, 1),
        "valid",
    )
    return out[..., 0]


@functools.lru_cache(maxsize=4096)
def _built_params(kind: str, config: tuple[Any, ...], input_shape: tuple[int, ...]) -> int:
    """``count_params()`` of one small Keras layer built on ``(None, *input_shape)``."""
    keras = quiet_tensorflow()
    if kind == "dense":
        layer = keras.layers.Dense(*config)
    else:
        layer = keras.layers.Conv2D(*config)
    with silenced_stderr():
        layer.build((None, *input_shape))
    return int(layer.count_params())


def dense_param_count(input_shape: Sequence[int], units: int) -> int:
    """Parameters of ``Dense(units)`` after ``Flatten()`` of an input ``input_shape``.

    A Dense layer's count is linear in its number of inputs ``n``, so Keras builds it on
    1 and 2 inputs and the count for ``n = prod(input_shape)`` follows, without allocating
    the (possibly huge) real kernel. A test checks this against full ``Sequential`` builds.
    """
    n = int(np.prod([int(d) for d in input_shape], dtype=np.int64))
    if n < 1 or int(units) < 1:
        raise ValueError(f"a Dense layer needs at least one input and one unit, got {n} and {units}")
    one = _built_params("dense", (int(units),), (1,))
    two = _built_params("dense", (int(units),), (2,))
    return one + (n - 1) * (two - one)


def conv2d_param_count(in_channels: int, filters: int, kernel_size: int | IntPair) -> int:
    """Parameters (weights and biases) of ``Conv2D(filters, kernel_size)`` on ``in_channels`` channels.

    Linear in ``in_channels``: Keras builds the layer on 1 and 2 channels (a test checks
    the result against full builds)."""
    kh, kw = as_pair(kernel_size)
    c_in = int(in_channels)
    if c_in < 1 or int(filters) < 1:
        raise ValueError(f"a Conv2D layer needs at least one channel and one filter, got {c_in} and {filters}")
    config = (int(filters), (kh, kw))
    one = _built_params("conv2d", config, (kh, kw, 1))
    two = _built_params("conv2d", config, (kh, kw, 2))
    return one + (c_in - 1) * (two - one)


def make_layer(kind: str, kwargs: Mapping[str, Any]) -> Any:
    """A Keras layer from a ``(kind, kwargs)`` spec, e.g. ``("conv2d", {"filters": 8,
    "kernel_size": 3})``. Raises ``ValueError`` for an unknown kind."""
    keras = quiet_tensorflow()
    if kind not in LAYER_KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {sorted(LAYER_KINDS)}")
    kwargs = dict(kwargs)
    if kind == "reshape" and "target_shape" in kwargs:
        kwargs["target_shape"] = tuple(kwargs["target_shape"])
    return getattr(keras.layers, LAYER_KINDS[kind])(**kwargs)


def build_sequential(input_shape: Sequence[int], layers: Sequence[tuple[str, Mapping[str, Any]]]) -> Any:
    """``keras.Sequential([keras.Input(input_shape), *layers])`` from ``(kind, kwargs)`` specs."""
    keras = quiet_tensorflow()
    with silenced_stderr():
        model = keras.Sequential([keras.Input(shape=tuple(input_shape))])
        for kind, kwargs in layers:
            model.add(make_layer(kind, kwargs))
    return model


@_memo
def sequential_summary(
    input_shape: Sequence[int], layers: Sequence[tuple[str, Mapping[str, Any]]]
) -> tuple[list[tuple[int, ...]], list[int]]:
    """What ``model.summary()`` reports for the stack, per layer: output shapes
    (no batch axis) and parameter counts."""
    model = build_sequential(input_shape, layers)
    shapes = [_shape(layer.output.shape) for layer in model.layers]
    params = [int(layer.count_params()) for layer in model.layers]
    return shapes, params


#: The layer kinds a ``receptive_field`` stack may hold.
RECEPTIVE_FIELD_KINDS = ("conv2d", "max_pooling2d", "average_pooling2d")


def _probe_layer(kind: str, kwargs: Mapping[str, Any]) -> Any:
    """A Keras layer whose output pixels depend on the same input windows as the spec's layer, and
    whose gradient reaches every position of each window: ``AveragePooling2D`` with the spec's window
    (kernel_size or pool_size), strides (Keras' defaults: 1 for ``conv2d``, the pool size for pooling)
    and padding (TensorFlow's 'same' pads convolution and pooling alike).

    Why not the spec's own layer: a ``MaxPooling2D`` output depends on its whole window (any value
    in it can be the largest) but its gradient flows to the largest value only, so it would show
    one path, not the region. A ``Conv2D`` with a kernel of ones would do (the number of filters and
    the activation do not change which inputs a pixel depends on), but TensorFlow's Conv2D gradient
    also computes the kernel's gradient, and that kills the process (double free) for some
    geometries, e.g. a 1x1 kernel with stride 2 on a 128x128 input. tests/test_truth.py checks
    that real Conv2D and MaxPooling2D layers depend on the regions measured here."""
    window, strides, padding = _window_geometry(kind, kwargs)
    return quiet_tensorflow().layers.AveragePooling2D(window, strides=strides, padding=padding)


def _window_geometry(kind: str, kwargs: Mapping[str, Any]) -> tuple[IntPair, IntPair, str]:
    """(window, strides, padding) of a ``receptive_field`` layer spec, with Keras' defaults (strides 1
    for ``conv2d``, the pool size for pooling). Raises ``ValueError`` for an unknown kind."""
    if kind not in RECEPTIVE_FIELD_KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {list(RECEPTIVE_FIELD_KINDS)}")
    padding = check_padding(kwargs.get("padding", "valid"))
    if kind == "conv2d":
        return as_pair(kwargs["kernel_size"]), as_pair(kwargs.get("strides", 1)), padding
    window = as_pair(kwargs["pool_size"])
    return window, (window if kwargs.get("strides") is None else as_pair(kwargs["strides"])), padding


def _gradient_extent(
    layers: Sequence[tuple[str, Mapping[str, Any]]], size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Run the probe stack on a ``size`` input and take the gradient of the output pixel nearest the middle
    with respect to the input. Returns per axis (first, last) index of the non-zero gradient, or ``None``
    when the input is too small for the stack (an empty output)."""
    import tensorflow as tf

    quiet_tensorflow()
    with silenced_stderr():
        x = tf.constant(np.ones((1, *size, 1), np.float32))
        with tf.GradientTape(watch_accessed_variables=False) as tape:  # the input's gradient only
            tape.watch(x)
            y = x
            for kind, kwargs in layers:
                window = _window_geometry(kind, kwargs)[0]
                if any(k > int(d) for k, d in zip(window, y.shape[1:3])):
                    return None  # never a window larger than its input: TensorFlow can crash on it
                y = _probe_layer(kind, kwargs)(y)
            pixel = y[0, int(y.shape[1]) // 2, int(y.shape[2]) // 2, 0]
        grad = tape.gradient(pixel, x).numpy()[0, :, :, 0]
    rows, cols = np.nonzero(grad > 0)
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


@_memo
def receptive_field(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[int, int]:
    """``(height, width)`` of the input region that one output pixel of the stack depends on, for a pixel
    away from the borders. ``layers``: ``(kind, kwargs)`` specs, kind in :data:`RECEPTIVE_FIELD_KINDS`
    and kwargs as the Keras layer's (kernel_size / pool_size, strides, padding; Keras' defaults).

    Measured with TensorFlow: the gradient of the middle output pixel with respect to the input, through
    layers with the stack's windows, strides and paddings (:func:`_probe_layer`); the region is the
    bounding box of the non-zero gradient (with a stride larger than a kernel it has gaps; the box spans
    them). The input grows until the box keeps its size when the input doubles and touches the input's
    border at neither size, so no padding cuts it.
    Raises ``ValueError`` for an unknown kind, or a stack whose region needs an input over 4096 pixels."""
    layers = [(kind, dict(kwargs)) for kind, kwargs in layers]
    for kind, kwargs in layers:
        _window_geometry(kind, kwargs)  # ValueError for an unknown kind or a bad argument, before any work
    size = [16, 16]
    while max(size) <= 4096:
        small, large = (
            _gradient_extent(layers, (size[0], size[1])),
            _gradient_extent(layers, (2 * size[0], 2 * size[1])),
        )
        if small is not None and large is not None:
            grow = [
                not (s[0] > 0 and s[1] < n - 1 and g[0] > 0 and g[1] < 2 * n - 1 and s[1] - s[0] == g[1] - g[0])
                for s, g, n in zip(small, large, size)
            ]
        else:
            grow = [True, True]
        if not any(grow) and small is not None:
            return (small[0][1] - small[0][0] + 1, small[1][1] - small[1][0] + 1)
        size = [2 * n if g else n for n, g in zip(size, grow)]
    raise ValueError("the receptive field of this stack needs an input larger than 4096 pixels")
