"""judge/grad_truth.py: the gradients of 04 agree with central differences of the Keras layers' forward
pass (float64), and TensorFlow's two choices are what the module says: a tie in max pooling sends the
gradient to the first maximum in row-major order; average pooling at 'same' borders divides by the
number of input values inside the window."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader_utils.judge import grad_truth
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.shapes import as_pair

pytestmark = pytest.mark.keras

EPS = 1e-6


@pytest.fixture(scope="module")
def keras():
    from grader_utils import quiet_tensorflow

    return quiet_tensorflow()


def _numerical(f, array: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``f`` with respect to every entry of ``array`` (float64)."""
    grad = np.zeros(array.shape)
    for index in np.ndindex(*array.shape):
        saved = array[index]
        array[index] = saved + EPS
        up = f()
        array[index] = saved - EPS
        down = f()
        array[index] = saved
        grad[index] = (up - down) / (2 * EPS)
    return grad


def _conv_forward(keras, x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any, padding: str):
    layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=strides, padding=padding, dtype="float64")
    layer.build((None, *x.shape))

    def run(x=x) -> np.ndarray:
        layer.set_weights([kernel, bias])
        return np.asarray(layer(x[None]))[0]

    return run


CONV_CASES = (
    suite_cases("conv2d_backward", "basic")[1:3]
    + suite_cases("conv2d_backward", "same_crop_random", seed=1, n=2)
    + suite_cases("conv2d_backward", "strides_random", seed=2, n=2)
)


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c.call_text("conv2d_backward"))
def test_conv2d_backward_is_the_numerical_gradient_of_a_real_conv2d(keras, case):
    dout, x, kernel = (np.asarray(a, np.float64) for a in case.args)
    bias = np.random.default_rng(0).normal(size=kernel.shape[3])
    strides, padding = case.kwargs["strides"], case.kwargs["padding"]
    forward = _conv_forward(keras, x, kernel, bias, strides, padding)
    loss = lambda: float(np.sum(forward() * dout))  # noqa: E731  (the layer reads x, kernel and bias each call)
    dx, dkernel, dbias = grad_truth.conv2d_backward(*case.args, **case.kwargs)
    assert (dx.shape, dkernel.shape, dbias.shape) == (x.shape, kernel.shape, bias.shape)
    assert dx.dtype == dkernel.dtype == dbias.dtype == np.float32
    np.testing.assert_allclose(dx, _numerical(loss, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dkernel, _numerical(loss, kernel), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dbias, _numerical(loss, bias), rtol=1e-5, atol=1e-5)


def _distinct(case) -> bool:
    """No two values of x are closer than 1e-3 (so the max of every window has a gradient)."""
    values = np.sort(case.args[1].ravel())
    return bool(np.all(np.diff(values) > 1e-3))


POOL_CASES = [
    c
    for c in suite_cases("pool2d_backward", "basic")[2:]
    + suite_cases("pool2d_backward", "same_random", seed=3, n=6)
    + suite_cases("pool2d_backward", "random", seed=4, n=6)
    if _distinct(c)
]


@pytest.mark.parametrize("kind", ["max", "average"])
def test_pool2d_backward_is_the_numerical_gradient_of_a_real_pooling_layer(keras, kind):
    assert len(POOL_CASES) >= 8
    layers = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
    for case in POOL_CASES:
        dout, x = (np.asarray(a, np.float64) for a in case.args[:2])
        strides = case.kwargs["strides"]
        layer = layers[kind](
            as_pair(case.args[2]),
            strides=None if strides is None else as_pair(strides),
            padding=case.kwargs["padding"],
            dtype="float64",
        )
        got = grad_truth.pool2d_backward(case.args[0], case.args[1], kind, *case.args[2:], **case.kwargs)
        numerical = _numerical(lambda: float(np.sum(np.asarray(layer(x[None]))[0] * dout)), x)  # noqa: B023
        assert got.dtype == np.float32 and got.shape == x.shape
        np.testing.assert_allclose(got, numerical, rtol=1e-5, atol=1e-5, err_msg=case.call_text(kind))


def _float32_layer_grads(keras, layer, x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    xt = tf.constant(x[None].astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt) * dout[None].astype(np.float32))
    return tape.gradient(loss, xt).numpy()[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order(keras, dtype):
    """TensorFlow's tie rule, in float32 (the layers' default) and float64 (what grad_truth runs): the whole
    gradient of a window goes to its first largest value scanning rows top to bottom, each row left to right."""
    import tensorflow as tf

    def grad(x: np.ndarray, dout: np.ndarray, pool: Any, strides: Any) -> np.ndarray:
        layer = keras.layers.MaxPooling2D(pool, strides=strides, dtype=dtype)
        xt = tf.constant(x[None].astype(dtype))
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt) * dout[None].astype(dtype))
        return tape.gradient(loss, xt).numpy()[0]

    # four equal values: the top-left one gets it all
    g = grad(np.ones((2, 2, 1)), np.full((1, 1, 1), 5.0), 2, 2)
    assert g[..., 0].tolist() == [[5, 0], [0, 0]]
    # the maxima at (0, 1) and (1, 0) tie: (0, 1) comes first in row-major order (a column-major scan would pick (1, 0))
    g = grad(np.array([[0, 3], [3, 1]], float).reshape(2, 2, 1), np.ones((1, 1, 1)), 2, 2)
    assert g[..., 0].tolist() == [[0, 1], [0, 0]]
    # per channel: channel 1 has its maximum at the bottom-right only
    x = np.stack([np.ones((2, 2)), np.array([[0, 0], [0, 1.0]])], axis=-1)
    g = grad(x, np.ones((1, 1, 2)), 2, 2)
    assert g[..., 0].tolist() == [[1, 0], [0, 0]] and g[..., 1].tolist() == [[0, 0], [0, 1]]
    # overlapping windows (stride 1): the first maximum of each window, the gradients of the windows added
    x = np.array([[1, 3, 3], [3, 0, 1], [2, 3, 3]], float).reshape(3, 3, 1)
    g = grad(x, np.array([[1, 10], [100, 1000]], float).reshape(2, 2, 1), 2, 1)
    assert g[..., 0].tolist() == [[0, 11, 0], [100, 0, 0], [0, 1000, 0]]


def test_grad_truth_follows_the_tie_rule_on_the_ties_suite():
    """grad_truth agrees with a NumPy statement of the rule (argmax: the first maximum) on every ties case."""
    import reference_grads as ref

    cases = suite_cases("pool2d_backward", "ties_random", seed=7, n=40)
    tied = 0
    for case in cases:
        want = ref.max_pool2d_backward(*case.args, **case.kwargs)
        every = ref.pool_backward(*case.args, **case.kwargs, kind="max", every_tie=True)
        tied += not np.array_equal(want, every)
        np.testing.assert_array_equal(grad_truth.max_pool2d_backward(*case.args, **case.kwargs), want)
    assert tied >= len(cases) // 2  # the suite does test ties: most cases differ from "every tied maximum"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_average_pool_same_border_divides_by_the_input_values_inside_the_window(keras, dtype):
    """A 3x3 input, 2x2 windows at stride 2, 'same': the windows cover 4, 2, 2 and 1 input values (one padded
    row and column, at the bottom/right); each input of a window gets dout / (that count), never dout / 4."""
    import tensorflow as tf

    dout = np.array([[4.0, 8.0], [16.0, 32.0]]).reshape(2, 2, 1)
    layer = keras.layers.AveragePooling2D(2, padding="same", dtype=dtype)
    xt = tf.constant(np.arange(9.0).reshape(1, 3, 3, 1).astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt) * dout[None].astype(dtype))
    g = tape.gradient(loss, xt).numpy()[0, ..., 0]
    assert g.tolist() == [[1, 1, 4], [1, 1, 4], [8, 8, 32]]
    truth = grad_truth.average_pool2d_backward(
        dout.astype(np.float32), np.arange(9.0).reshape(3, 3, 1), 2, None, "same"
    )
    assert truth[..., 0].tolist() == g.tolist()


def test_the_float32_layers_agree_with_the_float64_truth(keras):
    """grad_truth runs in float64; Keras' default float32 layers give the same gradients within the comparator's
    tolerances (conv: 1e-4, pooling: 1e-5/1e-6), so the exact version is no other truth."""
    import tensorflow as tf

    for case in suite_cases("conv2d_backward", "basic") + suite_cases("conv2d_backward", "random", seed=5, n=6):
        dout, x, kernel = case.args
        layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[:2], **case.kwargs)
        layer.build((None, *x.shape))
        layer.set_weights([kernel, np.zeros(kernel.shape[3], np.float32)])
        xt = tf.constant(x[None])
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt) * dout[None])
        grads = [g.numpy() for g in tape.gradient(loss, [xt, layer.kernel, layer.bias])]
        for got, want in zip([grads[0][0], *grads[1:]], grad_truth.conv2d_backward(*case.args, **case.kwargs)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    for case in suite_cases("pool2d_backward", "random", seed=6, n=12):
        dout, x, pool = case.args
        strides = case.kwargs["strides"]
        for kind, cls in (("max", keras.layers.MaxPooling2D), ("average", keras.layers.AveragePooling2D)):
            layer = cls(
                as_pair(pool), strides=None if strides is None else as_pair(strides), padding=case.kwargs["padding"]
            )
            got = _float32_layer_grads(keras, layer, x, dout)
            want = grad_truth.pool2d_backward(dout, x, kind, pool, **case.kwargs)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_dout_of_the_wrong_shape_is_refused():
    case = suite_cases("conv2d_backward", "basic")[1]
    dout, x, kernel = case.args
    with pytest.raises(ValueError, match="dout has shape"):
        grad_truth.conv2d_backward(dout[:-1], x, kernel, **case.kwargs)
    with pytest.raises(ValueError, match="dout has shape"):
        grad_truth.max_pool2d_backward(np.zeros((1, 1, 1), np.float32), x, 2, None, "valid")
    with pytest.raises(ValueError, match="kind"):
        grad_truth.pool2d_backward(np.zeros((1, 1, 1), np.float32), x, "min", 2)
