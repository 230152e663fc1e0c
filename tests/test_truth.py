"""grader_utils.truth agrees with Keras layers run in the test on real data, and with the
definitions (cross-correlation, TensorFlow's 'same' padding, averages that ignore padding)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import reference_impls as ref
from conftest import ROOT
from grader_utils.judge import truth
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.stack_cases import LESSON_MODEL

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def keras():
    from grader_utils import quiet_tensorflow

    return quiet_tensorflow()


def run_layer(layer: Any, x: np.ndarray) -> np.ndarray:
    """Call a Keras layer on one image (adds and drops the batch axis)."""
    return np.asarray(layer(np.asarray(x, dtype=np.float32)[None]))[0]


# --- output shapes vs. real layers on zeros ------------------------------------------------

CONV_SHAPE_CASES = (
    suite_cases("conv2d_output_shape", "basic")
    + suite_cases("conv2d_output_shape", "same_strides", seed=11, n=60)
    + suite_cases("conv2d_output_shape", "random", seed=12, n=200)
)
POOL_SHAPE_CASES = suite_cases("pool2d_output_shape", "basic") + suite_cases(
    "pool2d_output_shape", "random", seed=13, n=200
)


def test_conv2d_output_shape_is_the_shape_of_a_real_conv2d_output(keras):
    assert len(CONV_SHAPE_CASES) == len(suite_cases("conv2d_output_shape", "basic")) + 60 + 200  # every n honoured
    for case in CONV_SHAPE_CASES:
        input_shape, filters, kernel_size = case.args
        layer = keras.layers.Conv2D(filters, kernel_size, **case.kwargs)
        real = run_layer(layer, np.zeros(input_shape)).shape
        got = truth.conv2d_output_shape(*case.args, **case.kwargs)
        assert got == real, case
        assert type(got) is tuple and all(type(d) is int for d in got)


@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling2D"])
def test_pool2d_output_shape_is_the_shape_of_a_real_pooling_output(keras, cls):
    assert len(POOL_SHAPE_CASES) == len(suite_cases("pool2d_output_shape", "basic")) + 200  # every n honoured
    for case in POOL_SHAPE_CASES:
        input_shape, pool_size = case.args
        layer = getattr(keras.layers, cls)(pool_size, **case.kwargs)
        real = run_layer(layer, np.zeros(input_shape)).shape
        got = truth.pool2d_output_shape(*case.args, **case.kwargs)
        assert got == real, case
        assert type(got) is tuple and all(type(d) is int for d in got)


def test_same_padding_with_a_kernel_larger_than_the_input_is_valid(keras):
    real = run_layer(keras.layers.Conv2D(2, 5, padding="same"), np.zeros((3, 4, 1))).shape
    assert truth.conv2d_output_shape((3, 4, 1), 2, 5, padding="same") == real == (3, 4, 2)


# --- convolution values vs. a float64 cross-correlation ------------------------------------


def conv_cases(padding: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kmax_h, kmax_w = (min(h, 5), min(w, 5)) if padding == "valid" else (5, 5)
        kh, kw = int(rng.integers(1, kmax_h + 1)), int(rng.integers(1, kmax_w + 1))
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        x = rng.normal(size=(h, w, c_in)).astype(np.float32)
        kernel = rng.normal(size=(kh, kw, c_in, c_out)).astype(np.float32)
        bias = rng.normal(size=(c_out,)).astype(np.float32)
        yield x, kernel, bias, strides


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_is_cross_correlation_with_tensorflow_padding(padding):
    for x, kernel, bias, strides in conv_cases(padding, 60, seed=21 if padding == "valid" else 22):
        got = truth.conv2d(x, kernel, bias, strides, padding)
        expected = ref.conv2d_float64(x, kernel, bias, strides, padding)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_same_puts_the_extra_padding_bottom_right():
    """An even kernel: total padding 1 per axis. Keras/TF put it at the bottom/right; the
    same computation with the extra row/column at the top/left gives other numbers."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 6, 2)).astype(np.float32)
    kernel = rng.normal(size=(2, 2, 2, 3)).astype(np.float32)
    bias = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    got = truth.conv2d(x, kernel, bias, 1, "same")
    bottom_right = ref.conv2d_float64(np.pad(x, ((0, 1), (0, 1), (0, 0))), kernel, bias, 1, "valid")
    top_left = ref.conv2d_float64(np.pad(x, ((1, 0), (1, 0), (0, 0))), kernel, bias, 1, "valid")
    np.testing.assert_allclose(got, bottom_right, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, top_left, rtol=1e-3, atol=1e-3)


def test_conv2d_is_cross_correlation_not_convolution():
    """A kernel with one 1 at its top-left copies the input shifted, it is not flipped."""
    x = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    kernel = np.zeros((2, 2, 1, 1), dtype=np.float32)
    kernel[0, 0, 0, 0] = 1.0
    got = truth.conv2d(x, kernel, np.zeros(1), 1, "valid")
    np.testing.assert_array_equal(got[:, :, 0], x[:3, :3, 0])


def test_conv2d_adds_the_bias():
    x = np.zeros((3, 3, 2), dtype=np.float32)
    got = truth.conv2d(x, np.ones((2, 2, 2, 2)), np.array([1.5, -2.0]), 1, "valid")
    np.testing.assert_array_equal(got, np.broadcast_to(np.array([1.5, -2.0], dtype=np.float32), (2, 2, 2)))


# --- pooled values ----------------------------------------------------------------------------

POOL_VALUE_CASES = (
    suite_cases("pool2d_values", "basic")
    + suite_cases("pool2d_values", "same_random", seed=31, n=30)
    + suite_cases("pool2d_values", "random", seed=32, n=40)
)


@pytest.mark.parametrize("kind,cls", [("max", "MaxPooling2D"), ("average", "AveragePooling2D")])
def test_pool2d_values_match_a_real_layer_and_the_definition(keras, kind, cls):
    func = truth.max_pool2d if kind == "max" else truth.average_pool2d
    for case in POOL_VALUE_CASES:
        x, pool_size = case.args
        got = func(*case.args, **case.kwargs)
        assert got.dtype == np.float32
        real = run_layer(getattr(keras.layers, cls)(pool_size, **case.kwargs), x)
        np.testing.assert_array_equal(got, real)
        np.testing.assert_allclose(got, ref.pool2d(x, kind, pool_size, **case.kwargs), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(got, truth.pool2d(x, kind, pool_size, **case.kwargs))


def test_average_pooling_same_excludes_padding_from_the_count():
    """2x2 windows, stride 1 on [[1, 2], [3, 4]]: 'same' pads one row below and one column to the
    right. Averages over the input values inside each window only:
    (1+2+3+4)/4, (2+4)/2, (3+4)/2, 4/1."""
    x = np.array([[1, 2], [3, 4]], dtype=np.float32).reshape(2, 2, 1)
    got = truth.average_pool2d(x, 2, 1, "same")
    np.testing.assert_allclose(got[:, :, 0], [[2.5, 3.0], [3.5, 4.0]], rtol=1e-6)


def test_average_pooling_same_on_the_lessons_5x5_example():
    """arange(25) as 5x5, pool 2 (stride 2), 'same': 3x3 outputs, the padding row/column at the
    bottom/right; border windows average 2 values, the corner 1."""
    x = np.arange(25, dtype=np.float32).reshape(5, 5, 1)
    expected = [
        [(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 2],
        [(10 + 11 + 15 + 16) / 4, (12 + 13 + 17 + 18) / 4, (14 + 19) / 2],
        [(20 + 21) / 2, (22 + 23) / 2, 24 / 1],
    ]
    np.testing.assert_allclose(truth.average_pool2d(x, 2, None, "same")[:, :, 0], expected, rtol=1e-6)


def test_max_pooling_same_never_takes_the_padding():
    """All values negative: a max over padded zeros would give 0 at the border."""
    x = -np.array([[1, 2], [3, 4]], dtype=np.float32).reshape(2, 2, 1)
    got = truth.max_pool2d(x, 2, 1, "same")
    np.testing.assert_array_equal(got[:, :, 0], [[-1, -2], [-3, -4]])


def test_pool2d_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be 'max' or 'average'"):
        truth.pool2d(np.zeros((4, 4, 1)), "min", 2)


# --- sequential_summary --------------------------------------------------------------------------

SUMMARY_ROW = re.compile(r"│ (\S+) \((\w+)\)\s*│ \(None, ([\d, ]+)\)\s*│\s*([\d,]+) │")


def summary_rows(model) -> tuple[list[tuple[int, ...]], list[int]]:
    """Output shapes and parameter counts as ``model.summary()`` prints them (one table row per
    layer: give the layers short names so that no cell wraps)."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    rows = SUMMARY_ROW.findall("\n".join(lines))
    shapes = [tuple(int(d) for d in shape.replace(" ", "").strip(",").split(",")) for _, _, shape, _ in rows]
    params = [int(p.replace(",", "")) for *_, p in rows]
    return shapes, params


def test_sequential_summary_of_the_lesson_model(keras):
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 56, 3)),
            L.Conv2D(8, (3, 3), padding="same", activation="relu", name="c1"),
            L.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu", name="c2"),
            L.MaxPooling2D((3, 3), name="p"),
            L.Flatten(name="f"),
            L.Dense(3, activation="softmax", name="d"),
        ]
    )
    printed_shapes, printed_params = summary_rows(model)
    assert len(printed_shapes) == 5
    shapes, params = truth.sequential_summary((28, 56, 3), LESSON_MODEL)
    assert shapes == printed_shapes
    assert params == printed_params == [layer.count_params() for layer in model.layers]
    assert sum(params) == model.count_params()
    assert all(type(p) is int for p in params) and all(type(d) is int for s in shapes for d in s)


KERAS_CLASSES = {
    "conv2d": "Conv2D",
    "max_pooling2d": "MaxPooling2D",
    "average_pooling2d": "AveragePooling2D",
    "flatten": "Flatten",
    "reshape": "Reshape",
    "dense": "Dense",
}


@pytest.mark.parametrize(
    "case",
    suite_cases("sequential", "basic")
    + suite_cases("sequential", "edge")
    + suite_cases("sequential", "random", seed=41, n=8),
)
def test_sequential_summary_matches_a_model_built_in_the_test(keras, case):
    input_shape, layers = case.args
    built = []
    for i, (kind, kwargs) in enumerate(layers):
        kwargs = dict(kwargs, name=f"l{i}")  # short names: long ones wrap in the printed table
        if "target_shape" in kwargs:
            kwargs["target_shape"] = tuple(kwargs["target_shape"])
        built.append(getattr(keras.layers, KERAS_CLASSES[kind])(**kwargs))
    model = keras.Sequential([keras.Input(shape=input_shape), *built])
    printed_shapes, printed_params = summary_rows(model)
    assert len(printed_shapes) == len(layers)
    assert truth.sequential_summary(input_shape, layers) == (printed_shapes, printed_params)
    assert sum(printed_params) == model.count_params()


# --- the shortcuts (counts from small layers, the conv op) equal the full Keras objects ------


def _affordable(case, family: str) -> bool:
    """Full builds allocate every weight: keep the cross-check under ~4 M weights per case."""
    if family == "dense_param_count":
        shape, units = case.args
        return int(np.prod(shape)) * units < 4_000_000
    c_in, filters, size = case.args
    kh, kw = (size, size) if isinstance(size, int) else size
    return c_in * filters * kh * kw < 4_000_000


def full_dense_param_count(input_shape, units) -> int:
    """The count of a whole built ``Sequential([Flatten(), Dense(units)])``."""
    _, params = truth.sequential_summary(input_shape, [("flatten", {}), ("dense", {"units": int(units)})])
    return params[1]


def full_conv2d_param_count(in_channels, filters, kernel_size) -> int:
    """The count of a whole built ``Sequential([Conv2D(filters, kernel_size)])``."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    _, params = truth.sequential_summary(
        (kh, kw, int(in_channels)), [("conv2d", {"filters": int(filters), "kernel_size": (kh, kw)})]
    )
    return params[0]


@pytest.mark.parametrize(
    "family,fast,full",
    [
        ("dense_param_count", truth.dense_param_count, full_dense_param_count),
        ("conv2d_param_count", truth.conv2d_param_count, full_conv2d_param_count),
    ],
)
def test_param_counts_from_small_layers_equal_full_builds(keras, family, fast, full):
    cases = [
        c for c in suite_cases(family, "basic") + suite_cases(family, "random", seed=43, n=60) if _affordable(c, family)
    ]
    assert len(cases) > 30
    for case in cases:
        got = fast(*case.args)
        assert type(got) is int
        assert got == full(*case.args), case.args


def test_param_counts_of_a_huge_layer_need_no_huge_build():
    """The largest random Dense case (64*64*64 inputs, 512 units) is counted without
    allocating 134 M weights; the count is the Dense formula, checked on small builds above."""
    assert truth.dense_param_count((64, 64, 64), 512) == 64 * 64 * 64 * 512 + 512


def test_conv2d_from_the_op_equals_a_real_conv2d_layer(keras):
    for padding in ("valid", "same"):
        for x, kernel, bias, strides in conv_cases(padding, 20, seed=44):
            layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=strides, padding=padding)
            layer.build((None, *x.shape))
            layer.set_weights([kernel, bias])
            np.testing.assert_array_equal(truth.conv2d(x, kernel, bias, strides, padding), run_layer(layer, x))


def test_make_layer_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown layer kind 'conv3d'"):
        truth.make_layer("conv3d", {"filters": 1, "kernel_size": 1})


# --- receptive field: TensorFlow's gradient vs. the closed form ------------------------------------------

RF_CASES = suite_cases("receptive_field", "basic") + suite_cases("receptive_field", "random", seed=14, n=120)


def strides_ignored(layers) -> tuple[int, int]:
    """A wrong closed form: 1 + sum of (k - 1), strides ignored."""
    return ref.receptive_field([(kind, {**kw, "strides": 1}) for kind, kw in layers])


def own_stride(layers) -> tuple[int, int]:
    """A wrong closed form: each layer's (k - 1) times its own stride."""
    geometry = [ref.layer_geometry(kind, kw) for kind, kw in layers]
    return tuple(1 + sum((k[a] - 1) * s[a] for k, s in geometry) for a in (0, 1))  # type: ignore[return-value]


def test_receptive_field_from_the_gradient_is_the_closed_form_on_many_stacks():
    """r = 1 + sum (k_l - 1) * (product of the strides before l), per axis, on the lesson's stacks and
    120 random ones (rectangular kernels and strides, both paddings, default pooling strides)."""
    assert len(RF_CASES) == len(suite_cases("receptive_field", "basic")) + 120  # every n honoured
    for case in RF_CASES:
        (layers,) = case.args
        got = truth.receptive_field(layers)
        assert got == ref.receptive_field(layers), case.call_text("receptive_field")
        assert type(got) is tuple and all(type(d) is int for d in got)


@pytest.mark.parametrize("wrong", [strides_ignored, own_stride], ids=lambda f: f.__name__)
def test_receptive_field_from_the_gradient_tells_a_wrong_closed_form(wrong):
    """The gradient measures the region: a formula that mishandles strides disagrees with it on most
    random stacks (so the agreement above is not a formula compared with itself)."""
    disagree = sum(truth.receptive_field(c.args[0]) != wrong(c.args[0]) for c in RF_CASES)
    assert disagree > len(RF_CASES) // 2


def test_receptive_field_of_the_lessons_stacks():
    assert truth.receptive_field(LESSON_MODEL[:3]) == (9, 10)
    assert truth.receptive_field([]) == (1, 1)
    assert truth.receptive_field(
        [("conv2d", {"filters": 1, "kernel_size": 1, "strides": 2}), ("conv2d", {"filters": 1, "kernel_size": 3})]
    ) == (5, 5)  # a region with gaps


@pytest.mark.parametrize(
    "layers",
    [
        [("conv2d", {"kernel_size": 3}), ("max_pooling2d", {"pool_size": 2})],
        [
            ("max_pooling2d", {"pool_size": (3, 2), "strides": (2, 1)}),
            ("conv2d", {"kernel_size": (2, 3)}),
            ("max_pooling2d", {"pool_size": 2, "padding": "same"}),
        ],
        [
            ("conv2d", {"kernel_size": 2, "strides": 3}),
            ("conv2d", {"kernel_size": (3, 2), "strides": (1, 2), "padding": "same"}),
            ("conv2d", {"kernel_size": 3}),
        ],
        LESSON_MODEL[:3],
    ],
    ids=["conv-pool", "pool-conv-pool", "strided-convs", "lesson"],
)
def test_real_conv_and_max_pooling_layers_depend_on_the_region_truth_measures(keras, layers):
    """truth measures regions through average pooling windows. The real layers: a Conv2D (random
    positive kernel) and a MaxPooling2D, whose gradient reaches one input per window. Over many
    random inputs every position of the region gets its turn, and the union is truth's region."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    real = []
    for kind, kw in layers:
        if kind == "conv2d":
            kernel = keras.initializers.RandomUniform(0.5, 1.5, seed=1)
            real.append(
                keras.layers.Conv2D(
                    1,
                    kw["kernel_size"],
                    strides=kw.get("strides", 1),
                    padding=kw.get("padding", "valid"),
                    kernel_initializer=kernel,
                )
            )
        else:
            real.append(
                keras.layers.MaxPooling2D(
                    kw["pool_size"], strides=kw.get("strides"), padding=kw.get("padding", "valid")
                )
            )
    reached = np.zeros((40, 40), bool)
    one_input = []
    for _ in range(60):
        x = tf.constant(rng.normal(size=(1, 40, 40, 1)).astype(np.float32))
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            y = x
            for layer in real:
                y = layer(y)
            pixel = y[0, y.shape[1] // 2, y.shape[2] // 2, 0]
        support = tape.gradient(pixel, x).numpy()[0, :, :, 0] != 0
        one_input.append(support.sum())
        reached |= support
    rows, cols = np.nonzero(reached)
    box = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
    assert box == truth.receptive_field(layers)
    if any(kind == "max_pooling2d" for kind, _ in layers):
        assert max(one_input) < box[0] * box[1]  # a single max pooling gradient never shows the whole region


def test_receptive_field_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown layer kind 'dense'"):
        truth.receptive_field([("conv2d", {"kernel_size": 3}), ("dense", {"units": 2})])


# --- invalid configurations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: truth.conv2d_output_shape((3, 3, 1), 2, 4),
        lambda: truth.conv2d_output_shape((10, 3, 1), 2, (3, 5), strides=2, padding="valid"),
        lambda: truth.pool2d_output_shape((3, 3, 1), 4),
        lambda: truth.pool2d_output_shape((8, 3, 2), (2, 4), strides=1),
        lambda: truth.conv2d(np.zeros((3, 3, 1)), np.zeros((4, 4, 1, 2)), np.zeros(2)),
        lambda: truth.conv2d_output_shape((8, 8, 1), 2, 3, padding="full"),
        lambda: truth.pool2d_output_shape((8, 8, 1), 2.0),
        lambda: truth.sequential_summary((3, 3, 1), [("conv2d", {"filters": 1, "kernel_size": 4})]),
    ],
    ids=["conv-kernel", "conv-kernel-w", "pool", "pool-w", "conv-values", "bad-padding", "float-size", "sequential"],
)
def test_invalid_configs_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("func", [truth.max_pool2d, truth.average_pool2d], ids=["max", "average"])
def test_pool_values_with_a_window_larger_than_the_input_raise_value_error(func):
    """As pool2d_output_shape does. (Keras itself returns an empty array for average pooling and
    raises AbortedError for max pooling -- or, with a column stride of 1, kills the process with
    SIGFPE: so only shapes that are safe to hand to Keras are used here.)"""
    with pytest.raises(ValueError):
        func(np.ones((3, 5, 1), dtype=np.float32), (4, 2), None, "valid")
    with pytest.raises(ValueError):
        func(np.ones((5, 3, 1), dtype=np.float32), (2, 4), (2, 2), "valid")


# --- stderr -------------------------------------------------------------------------------------------


def call_every_truth_function() -> None:
    x = np.random.default_rng(0).normal(size=(7, 6, 2)).astype(np.float32)
    truth.conv2d_output_shape((28, 56, 3), 8, 3, 2, "same")
    truth.pool2d_output_shape((13, 19, 5), 3)
    truth.max_pool2d(x, 2, None, "same")
    truth.average_pool2d(x, (3, 2), 1, "same")
    truth.pool2d(x, "max", 2)
    truth.conv2d(x, np.ones((3, 3, 2, 4)), np.zeros(4), 2, "same")
    truth.make_layer("dense", {"units": 3})
    truth.build_sequential((28, 56, 3), LESSON_MODEL)
    truth.sequential_summary((28, 56, 3), LESSON_MODEL)
    truth.receptive_field(LESSON_MODEL[:3])
    try:
        truth.conv2d_output_shape((3, 3, 1), 2, 4)
    except ValueError:
        pass


def test_truth_calls_write_nothing_to_stderr(keras, capfd):
    capfd.readouterr()
    call_every_truth_function()
    out, err = capfd.readouterr()
    assert err == ""


def test_truth_in_a_fresh_process_writes_nothing_to_stderr():
    """The first call imports TensorFlow: that must be silent too."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from test_truth import call_every_truth_function
        call_every_truth_function()
        print("done")
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert proc.stderr == ""
