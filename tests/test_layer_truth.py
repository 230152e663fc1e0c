"""judge/layer_truth.py: 05's answers are Keras' and TensorFlow's (each checked here against the layers, ops
and models run in the test), and the rules the lesson states about them hold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader_utils.judge import layer_truth, truth
from grader_utils.quiet import quiet_tensorflow

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def keras():
    return quiet_tensorflow()


# --- dropout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5, 0.8])
@pytest.mark.parametrize("shape", [(50,), (6, 7), (2, 5, 5, 3)])
def test_dropout_with_the_mask_keras_drew_is_keras_output(keras, rate, shape):
    x = np.random.default_rng(1).uniform(0.5, 2.0, size=shape).astype(np.float32)  # no zeros: the mask shows
    out = np.asarray(keras.layers.Dropout(rate, seed=3)(x, training=True))
    keep = out != 0
    assert 0 < keep.sum() < keep.size or keep.size < 20
    np.testing.assert_allclose(layer_truth.dropout_forward(x, rate, keep, True), out, rtol=1e-6)


def test_dropout_scale_is_the_inverse_keep_probability():
    for rate in (0.1, 0.3, 0.5, 0.75):
        assert layer_truth.dropout_scale(rate) == pytest.approx(1 / (1 - rate), rel=1e-6)


def test_dropout_at_inference_is_keras_output_the_input(keras):
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    keep = np.zeros((3, 4), bool)
    out = layer_truth.dropout_forward(x, 0.5, keep, False)
    np.testing.assert_array_equal(out, np.asarray(keras.layers.Dropout(0.5)(x, training=False)))
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1])
def test_dropout_rate_outside_the_open_interval_is_refused(rate):
    with pytest.raises(ValueError, match="rate"):
        layer_truth.dropout_scale(rate)


def test_dropout_mask_of_another_shape_or_dtype_is_refused():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="keep_mask"):
        layer_truth.dropout_forward(x, 0.5, np.ones((3, 2), bool), True)
    with pytest.raises(ValueError, match="keep_mask"):
        layer_truth.dropout_forward(x, 0.5, np.ones((2, 3)), True)


# --- batch normalisation ---------------------------------------------------------------------------


def _bn_case(seed: int, shape=(4, 3, 3, 2)):
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = rng.normal(2.0, 3.0, size=shape).astype(np.float32)
    return x, *(rng.uniform(0.5, 1.5, size=c).astype(np.float32) for _ in range(4))


@pytest.mark.parametrize("momentum,epsilon", [(0.99, 1e-3), (0.9, 1e-5), (0.5, 0.1)])
def test_batchnorm_training_follows_the_lessons_rules(momentum, epsilon):
    x, gamma, beta, mm, mv = _bn_case(0)
    out, new_mean, new_var = layer_truth.batchnorm_forward(x, gamma, beta, mm, mv, momentum, epsilon, True)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 1, 2)), x64.var(axis=(0, 1, 2))  # biased variance: divided by n
    np.testing.assert_allclose(out, gamma * (x64 - mean) / np.sqrt(var + epsilon) + beta, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(new_mean, mm * momentum + mean * (1 - momentum), rtol=1e-5)
    np.testing.assert_allclose(new_var, mv * momentum + var * (1 - momentum), rtol=1e-5)
    n = x.size // x.shape[-1]
    unbiased = mv * momentum + var * n / (n - 1) * (1 - momentum)
    assert not np.allclose(new_var, unbiased, rtol=1e-4, atol=1e-4)


def test_batchnorm_inference_uses_and_keeps_the_moving_statistics():
    x, gamma, beta, mm, mv = _bn_case(1)
    out, new_mean, new_var = layer_truth.batchnorm_forward(x, gamma, beta, mm, mv, 0.99, 1e-3, False)
    np.testing.assert_allclose(out, gamma * (x - mm) / np.sqrt(mv + 1e-3) + beta, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(new_mean, mm)
    np.testing.assert_array_equal(new_var, mv)


def test_batchnorm_is_what_a_keras_model_does_in_a_training_step(keras):
    """The layer inside a Sequential model, called in training: the same output and moving statistics."""
    x, gamma, beta, mm, mv = _bn_case(2, (3, 2, 4, 3))
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.BatchNormalization(momentum=0.8, epsilon=0.01)])
    model.layers[0].set_weights([gamma, beta, mm, mv])
    out = np.asarray(model(x, training=True))
    ours = layer_truth.batchnorm_forward(x, gamma, beta, mm, mv, 0.8, 0.01, True)
    np.testing.assert_allclose(ours[0], out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours[1], model.layers[0].moving_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours[2], model.layers[0].moving_variance.numpy(), rtol=1e-6)


def test_batchnorm_parameters_of_the_wrong_shape_are_refused():
    x, gamma, beta, mm, mv = _bn_case(3)
    with pytest.raises(ValueError, match="shape"):
        layer_truth.batchnorm_forward(x, gamma[:1], beta, mm, mv)


# --- im2col ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,kernel,strides,padding",
    [
        ((5, 6, 2), (3, 3), (1, 1), "valid"),
        ((7, 5, 3), (2, 3), (2, 1), "valid"),
        ((6, 5, 1), (2, 2), (1, 1), "same"),
        ((9, 8, 2), (3, 4), (2, 3), "same"),
    ],
)
def test_im2col_times_the_flattened_kernel_is_keras_conv2d(shape, kernel, strides, padding):
    rng = np.random.default_rng(4)
    x = rng.normal(size=shape).astype(np.float32)
    k = rng.normal(size=(*kernel, shape[2], 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    cols = layer_truth.im2col(x, kernel, strides, padding)
    expected = truth.conv2d(x, k, bias, strides, padding)
    assert cols.shape == (expected.shape[0] * expected.shape[1], kernel[0] * kernel[1] * shape[2])
    got = (cols @ k.reshape(-1, 4) + bias).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_im2col_rows_are_windows_in_row_major_order_and_columns_kernel_row_column_channel():
    x = np.arange(4 * 4 * 2, dtype=np.float32).reshape(4, 4, 2)
    cols = layer_truth.im2col(x, 2, 2, "valid")
    assert cols.shape == (4, 8)
    np.testing.assert_array_equal(cols[1], x[0:2, 2:4, :].reshape(-1))
    np.testing.assert_array_equal(cols[2], x[2:4, 0:2, :].reshape(-1))


def test_im2col_of_a_window_larger_than_the_input_is_refused():
    with pytest.raises(ValueError):
        layer_truth.im2col(np.ones((2, 2, 1), np.float32), 3, 1, "valid")


# --- a layer's cost --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,filters,kernel,strides,padding",
    [
        ((32, 32, 3), 32, 3, 1, "same"),
        ((32, 32, 3), 32, 3, 2, "same"),
        ((28, 28, 1), 6, 5, 1, "valid"),
        ((13, 17, 4), 8, (3, 2), (2, 3), "valid"),
    ],
)
def test_macs_are_output_positions_times_window_times_filters(shape, filters, kernel, strides, padding):
    """The profiler's count, halved, is the lesson's formula on Keras' output shape; the bias adds are one per
    output value."""
    h_out, w_out, c_out = truth.conv2d_output_shape(shape, filters, kernel, strides, padding)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    assert (
        layer_truth.conv2d_macs(shape, filters, kernel, strides, padding) == h_out * w_out * kh * kw * shape[2] * c_out
    )
    flops = layer_truth.conv2d_flops(shape, filters, kernel, strides, padding)
    assert flops == {"convolution": 2 * h_out * w_out * kh * kw * shape[2] * c_out, "BiasAdd": h_out * w_out * c_out}


# --- the initial loss ------------------------------------------------------------------------------


@pytest.mark.parametrize("classes", [2, 10, 100, 1000])
def test_initial_loss_is_ln_of_the_classes_and_an_untrained_uniform_model_has_it(keras, classes):
    assert layer_truth.initial_loss(classes) == pytest.approx(math.log(classes), rel=1e-6)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(classes, kernel_initializer="zeros", activation="softmax")]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(5).normal(size=(8, 5)).astype(np.float32)
    y = np.arange(8) % classes
    assert model.evaluate(x, y, verbose=0) == pytest.approx(layer_truth.initial_loss(classes), rel=1e-5)


def test_initial_loss_needs_a_class():
    with pytest.raises(ValueError):
        layer_truth.initial_loss(0)
