"""Lesson figures: the 'same' padding rule they draw agrees with Keras."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from grader_utils.figures import channel_sums, draw_channels, draw_pooling, draw_same_padding, same_padding_amounts
from grader_utils.judge import truth

matplotlib.use("Agg")
pytestmark = pytest.mark.keras


@pytest.mark.parametrize("size,kernel,stride", [(5, 2, 2), (7, 3, 2), (6, 4, 3), (28, 3, 1), (9, 1, 4)])
def test_same_padding_amounts_reproduce_keras(size, kernel, stride):
    """Padding the input as described, then a 'valid' pool, equals Keras' 'same' pool."""
    before, after = same_padding_amounts(size, kernel, stride)
    x = np.random.default_rng(size).normal(size=(size, size, 1)).astype(np.float32)
    padded = np.pad(x, ((before, after), (before, after), (0, 0)), constant_values=-np.inf)
    assert np.array_equal(
        truth.max_pool2d(padded, kernel, stride, "valid"), truth.max_pool2d(x, kernel, stride, "same")
    )


def test_figures_draw():
    import matplotlib.pyplot as plt

    fig = draw_same_padding(5, 2, 2)
    assert "output 3x3" in fig.axes[0].get_title()
    fig2 = draw_pooling(np.arange(24, dtype=np.float32).reshape(4, 6), 2)
    assert len(fig2.axes) == 3
    plt.close("all")


def test_draw_channels_shows_what_keras_conv2d_computes():
    """Each output channel of a real Conv2D is the sum of one-filter Conv2D maps, one per input channel, plus
    its bias; the figure's partial and output panels show exactly those numbers."""
    import matplotlib.pyplot as plt

    from grader_utils import quiet_tensorflow

    keras = quiet_tensorflow()
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, size=(5, 4, 3)).astype("float32")
    kernel = rng.integers(-2, 3, size=(2, 3, 3, 2)).astype("float32")
    bias = np.array([1.5, -2], "float32")
    layer = keras.layers.Conv2D(2, (2, 3))
    layer.build((None, 5, 4, 3))
    layer.set_weights([kernel, bias])
    expected = np.asarray(layer(x[None]))[0]  # (4, 2, 2)
    partials, out = channel_sums(x, kernel, bias)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    for o in range(2):
        for c in range(3):
            one = keras.layers.Conv2D(1, (2, 3), use_bias=False)
            one.build((None, 5, 4, 1))
            one.set_weights([kernel[:, :, c : c + 1, o : o + 1]])
            alone = np.asarray(one(x[None, :, :, c : c + 1]))[0, :, :, 0]
            np.testing.assert_allclose(partials[o, c], alone, atol=1e-5)
        np.testing.assert_allclose(partials[o].sum(axis=0) + bias[o], expected[:, :, o], atol=1e-5)

    fig = draw_channels(x, kernel, bias)
    panels = {ax.get_title(): ax for ax in fig.axes}
    for o in range(2):
        shown = [t.get_text() for t in panels[f"output channel {o}"].texts]
        assert shown == [f"{v:g}" for v in (expected[:, :, o] + 0.0).ravel()]
        for c in range(3):
            shown = [t.get_text() for t in panels[f"channel {c} \u22c6 kernel[:, :, {c}, {o}]"].texts]
            assert shown[: partials[o, c].size] == [f"{v:g}" for v in (partials[o, c] + 0.0).ravel()]
    assert "- 2 =" in [t.get_text() for t in panels["channel 2 \u22c6 kernel[:, :, 2, 1]"].texts]
    plt.close("all")


@pytest.mark.parametrize(
    "size,kernel,strides,padding",
    [
        ((5, 5), (3, 3), 2, "same"),
        ((6, 7), (2, 3), (2, 1), "same"),
        ((8, 6), (3, 2), (2, 2), "valid"),
        ((5, 5), (1, 1), 3, "same"),
        ((4, 5), (4, 2), 1, "valid"),
    ],
)
def test_full_correlation_with_the_flipped_kernel_is_tensorflows_input_gradient(size, kernel, strides, padding):
    """Notebook 04's figure: dout dilated by the strides and padded by k - 1, correlated with the flipped kernel,
    then Keras' 'same' padding cut off (zeros where a 'valid' input is longer than the windows reach), is the
    gradient TensorFlow computes for the input of a real Conv2D."""
    import matplotlib.pyplot as plt
    import tensorflow as tf

    from grader_utils import quiet_tensorflow
    from grader_utils.figures import draw_conv_backward, full_correlation_parts

    keras = quiet_tensorflow()
    rng = np.random.default_rng(sum(size))
    k = rng.normal(size=kernel).astype(np.float32)
    conv = keras.layers.Conv2D(1, kernel, strides=strides, padding=padding, use_bias=False)
    conv.build((None, *size, 1))
    conv.set_weights([k[:, :, None, None]])
    x = tf.constant(rng.normal(size=(1, *size, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = conv(x)
    dout = rng.normal(size=y.shape[1:3]).astype(np.float32)
    tf_dx = np.asarray(tape.gradient(y, x, output_gradients=tf.constant(dout[None, :, :, None])))[0, :, :, 0]
    parts = full_correlation_parts(dout, k, size, strides, padding)
    top, _, left, _ = parts["pads"]
    inner = parts["full"][top:, left:][: size[0], : size[1]]
    dx = np.zeros(size)
    dx[: inner.shape[0], : inner.shape[1]] = inner
    np.testing.assert_allclose(dx, tf_dx, rtol=1e-5, atol=1e-5)
    assert np.array_equal(parts["flipped"], k[::-1, ::-1])
    assert not parts["spread"][parts["filler"]].any()
    fig = draw_conv_backward(dout, k, tf_dx, strides, padding)
    assert [ax.get_title() for ax in fig.axes][-1] == "dx (TensorFlow)" and len(fig.axes) == 5
    plt.close("all")
