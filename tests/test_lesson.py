"""Every number the lesson states is what Keras computes.

Convention of the notebooks: a number that Keras computes (a shape, a parameter
count) is written in bold in the markdown, e.g. **(13, 19, 5)** or **245**. This
test collects every bold numeric token of a notebook and requires each to be one of
the facts computed below with real Keras layers; a code block that shows a
``model.summary()`` must be exactly what Keras prints.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.keras

BOLD_NUMBER = re.compile(r"\*\*\(?[\d, ]+\)?\*\*")


def _text(shape) -> str:
    shape = tuple(int(d) for d in shape)
    return f"({shape[0]},)" if len(shape) == 1 else str(shape)


def _markdown(path):
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _out(layer, shape):
    return tuple(layer(np.zeros((1, *shape), "float32")).shape[1:])


def lesson_model(keras):
    keras.utils.clear_session()
    L = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 56, 3)),
        L.Conv2D(8, (3, 3), padding="same", activation="relu"),
        L.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu"),
        L.MaxPooling2D((3, 3)),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ], name="sequential")


def facts_02(keras) -> set[str]:
    """Facts stated in 02_padding_strides_pooling, each computed by Keras."""
    L = keras.layers
    facts = set()
    conv2 = _out(L.Conv2D(5, (3, 2), strides=(2, 3)), (28, 56, 8))
    facts |= {_text(conv2), str(conv2[0]), str(conv2[1])}
    facts.add(str(_out(L.Conv2D(1, 2, strides=2, padding="same"), (5, 5, 1))[0]))
    facts.add(_text(_out(L.MaxPooling2D((2, 2)), (15, 15, 1))[:2]))
    facts.add(_text(_out(L.UpSampling2D((2, 2)), (7, 7, 1))[:2]))
    facts.add(_text(_out(L.Flatten(), (28, 28, 3))))
    facts.add(_text(_out(L.Reshape((3, 784)), (28, 28, 3))))
    facts.add(_text(_out(L.Reshape((14, 14, 12)), (28, 28, 3))))
    facts.add(_text(_out(L.Reshape((-1, 4)), (12, 10, 2))))
    dense = L.Dense(2)
    facts |= {_text(_out(dense, (6, 6, 4))), str(dense.count_params())}
    pool = L.MaxPooling2D((3, 3))
    facts.add(str(pool.count_params()))
    model = lesson_model(keras)
    for layer in model.layers:
        facts |= {_text(layer.output.shape[1:]), str(layer.count_params())}
    pooled = model.layers[2].output.shape
    facts |= {str(pooled[1]), str(pooled[2]), str(model.layers[3].output.shape[1])}
    facts.add(str(model.count_params()))
    facts.add(str(_out(L.Flatten(), tuple(model.layers[1].output.shape[1:]))[0]))
    facts.add(str(model.count_params() * np.dtype(model.weights[0].dtype).itemsize))
    out = _out(L.Conv2D(1, (3, 3), padding="same"), (64, 64, 1))  # conv2d_fast: a 64x64 output's pixels
    facts.add(str(out[0] * out[1]))
    return facts


def facts_01(keras) -> set[str]:
    """Facts stated in 01_convolution, each computed by Keras."""
    L = keras.layers
    dense = keras.Sequential([keras.Input(shape=(200, 200, 3)), L.Flatten(), L.Dense(1000)])
    kernel = dense.layers[-1].kernel
    facts = {str(kernel.shape[0]), str(dense.count_params()),
             str(dense.count_params() * np.dtype(kernel.dtype).itemsize)}
    conv = L.Conv2D(32, (3, 3))
    conv.build((None, 32, 32, 3))
    facts |= {_text(conv.kernel.shape), str(conv.count_params()), str(int(np.prod(conv.kernel.shape[:3])))}
    small = L.Conv2D(2, (2, 2))  # the many-channels figure: 3 input channels, 2 filters
    small.build((None, 4, 4, 3))
    facts.add(str(small.count_params()))
    pointwise, per_pixel = L.Conv2D(16, 1), L.Dense(16)  # 1x1 convolution = Dense at every pixel
    pointwise.build((None, 6, 6, 64))
    per_pixel.build((None, 64))
    facts |= {_text(pointwise.kernel.shape), _text(per_pixel.kernel.shape), str(pointwise.count_params()),
              str(per_pixel.count_params())}
    wide = keras.Sequential([keras.Input(shape=(32, 32, 256)), L.Conv2D(256, 3)])
    bottleneck = keras.Sequential([keras.Input(shape=(32, 32, 256)), L.Conv2D(64, 1), L.Conv2D(256, 3)])
    facts |= {str(wide.count_params()), str(bottleneck.count_params())}
    facts |= {str(layer.count_params()) for layer in bottleneck.layers}
    learner = L.Conv2D(1, 3, use_bias=False)  # the layer that learns an edge kernel
    learner.build((None, 16, 16, 1))
    facts.add(str(learner.count_params()))
    return facts


def facts_03(keras) -> set[str]:
    """Facts stated in 03_building_a_cnn: the lesson model's shapes and counts, and the
    parameter count of the TensorFlow CNN tutorial's model."""
    L = keras.layers
    model = lesson_model(keras)
    facts = {str(model.count_params()), str(model.layers[3].output.shape[1])}
    for layer in model.layers:
        facts |= {_text(layer.output.shape[1:]), str(layer.count_params())}
    tutorial = keras.Sequential([keras.Input(shape=(32, 32, 3)), L.Conv2D(32, 3, activation="relu"),
                                 L.MaxPooling2D(), L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(),
                                 L.Conv2D(64, 3, activation="relu"), L.Flatten(), L.Dense(64, activation="relu"),
                                 L.Dense(10)])
    facts.add(str(tutorial.count_params()))
    return facts


FACTS = {"01_convolution": facts_01, "02_padding_strides_pooling": facts_02, "03_building_a_cnn": facts_03}


@pytest.fixture(scope="module")
def keras():
    from grader_utils import quiet_tensorflow

    return quiet_tensorflow()


@pytest.mark.parametrize("assignment", sorted(FACTS))
def test_every_bold_number_is_a_keras_fact(keras, assignment):
    facts = FACTS[assignment](keras)
    for path in (ROOT / "source" / assignment).glob("*.ipynb"):
        tokens = {t.strip("*").strip() for t in BOLD_NUMBER.findall(_markdown(path))}
        assert tokens, "the lesson states no numbers in bold"
        unverified = sorted(tokens - facts)
        assert not unverified, f"{path.name} states numbers Keras does not give: {unverified}"


@pytest.mark.parametrize("path", ["02_padding_strides_pooling/padding_strides_pooling.ipynb",
                                  "03_building_a_cnn/building_a_cnn.ipynb"])
def test_summary_shown_in_the_lesson_is_what_keras_prints(keras, path):
    text = _markdown(ROOT / "source" / path)
    blocks = [b for b in re.findall(r"```text\n(.*?)```", text, re.S) if "Total params" in b]
    assert blocks, "the lesson shows no model.summary() output"
    printed: list[str] = []
    lesson_model(keras).summary(print_fn=lambda s, line_break=True: printed.append(s))
    expected = "\n".join(line.rstrip() for line in "".join(printed).strip("\n").splitlines())
    shown = "\n".join(line.rstrip() for line in blocks[0].strip("\n").splitlines())
    assert shown == expected


def _cells(path, *ids):
    cells = {c.get("id"): c.source for c in nbformat.read(path, as_version=4).cells}
    return [cells[i] for i in ids]


@pytest.mark.parametrize("filters", [1, 4, 17, 32])
def test_first_layer_cells_draw_every_map_that_fits_for_any_width(keras, filters):
    """Section 3.5 runs for every first Conv2D the exercise allows (issue #12, item 6): all filters, and
    min(17, filters) feature maps next to the image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = keras.layers
    cnn = keras.Sequential([keras.Input(shape=(32, 32, 3)), L.Conv2D(filters, 3, activation="relu"),
                            L.MaxPooling2D(), L.Conv2D(8, 3), L.MaxPooling2D(), L.Flatten(),
                            L.Dense(10, activation="softmax")])
    x_test = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    ns = {"cnn": cnn, "x_test": x_test, "y_test": np.array([3, 1]), "class_names": [f"c{i}" for i in range(10)],
          "keras": keras, "layers": L, "np": np, "plt": plt}
    filters_cell, maps_cell = _cells(ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb",
                                     "cell-32", "cell-34")
    plt.close("all")
    exec(filters_cell, ns)
    drawn = [ax for ax in plt.gcf().axes if ax.images]
    assert len(drawn) == filters
    exec(maps_cell, ns)
    drawn = [ax for ax in plt.gcf().axes if ax.images]
    assert len(drawn) == 1 + min(17, filters)  # the image and the maps
    assert [ax.get_title() for ax in drawn[1:]] == [f"map {k}" for k in range(min(17, filters))]
    plt.close("all")


def test_probabilities_to_label_cell_shows_softmax_output_and_its_argmax(keras, capsys):
    """Section 3.4 shows with numbers that softmax gives probabilities and argmax the label (item 7)."""
    L = keras.layers
    model = keras.Sequential([keras.Input(shape=(4,)), L.Dense(10, activation="softmax")])
    probabilities = np.asarray(model.predict(np.random.default_rng(1).normal(size=(3, 4)), verbose=0))
    ns = {"probabilities": probabilities, "y_test": np.array([2, 0, 1]), "np": np,
          "class_names": [f"c{i}" for i in range(10)]}
    (cell,) = _cells(ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb", "probabilities-to-label-code")
    exec(cell, ns)
    out = capsys.readouterr().out
    label = int(probabilities[0].argmax())
    assert f"they add up to {probabilities[0].sum():.3f}" in out and "1.000" in out
    assert f"predicted label: {label} = 'c{label}'" in out


CONVOLUTION = ROOT / "source" / "01_convolution" / "convolution.ipynb"


def _run_cells(*ids, **namespace) -> dict:
    """Run cells of notebook 01 in one namespace (figures on matplotlib's Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for source in _cells(CONVOLUTION, *ids):
        exec(source, namespace)
    plt.close("all")
    return namespace


def test_channels_demo_is_the_sum_of_per_channel_correlations_plus_bias(keras):
    """Section "Many input channels": the figure's layer is the one the text describes, and each output channel
    of a real Conv2D equals the sum, over the input channels, of one-filter Conv2D maps, plus its bias."""
    ns = _run_cells("cell-01", "channels-demo")
    x, k, b, out = ns["x_small"], ns["k_small"], ns["b_small"], ns["out_small"]
    assert x.shape == (4, 4, 3) and k.shape == (2, 2, 3, 2)  # "a 4x4 input with 3 channels", "2 filters 2x2"
    assert not k[:, :, 1, 1].any() and k[:, :, 1, 0].any()  # "Filter 1 has zero weights on channel 1"
    for o in range(2):
        maps = []
        for c in range(3):
            one = keras.layers.Conv2D(1, (2, 2), use_bias=False)
            one.build((None, 4, 4, 1))
            one.set_weights([k[:, :, c:c + 1, o:o + 1]])
            maps.append(np.asarray(one(x[None, :, :, c:c + 1]))[0, :, :, 0])
        np.testing.assert_allclose(out[:, :, o], np.sum(maps, axis=0) + b[o], atol=1e-5)


def test_pointwise_demo_shows_conv2d_1x1_equals_dense_at_every_pixel(keras):
    """Section "1x1 convolutions": Conv2D(16, 1) and Dense(16) with the same weights give the same outputs
    (compared here pixel by pixel, each pixel's 64 channels through the Dense layer alone)."""
    ns = _run_cells("cell-01", "pointwise-demo")
    x, y_conv, dense = ns["x_pixels"], ns["y_conv"], ns["per_pixel"]
    assert x.shape[-1] == 64 and y_conv.shape[-1] == 16
    for i, j in [(0, 0), (2, 5), (5, 3)]:
        pixel = np.asarray(dense(x[:, i, j, :]))[0]
        np.testing.assert_allclose(y_conv[0, i, j], pixel, rtol=1e-5, atol=1e-6)
    assert ns["pointwise"].count_params() == dense.count_params()


def test_learned_kernel_is_sobel_x_to_two_decimals(keras):
    """Section "Learning a kernel from data": the notebook's own cell (same seed, data and steps) trains a
    Conv2D(1, 3) that equals Sobel x to two decimals, as the text says (measured: largest error 0.001),
    with the data sizes and the step count the text states."""
    from grader_utils import truth

    ns = _run_cells("cell-01", "cell-22", "learn-kernel-demo", correlate2d=truth.correlate2d)
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")
    assert np.array_equal(ns["sobel_x"], sobel_x)
    learned = ns["learned"]
    assert np.array_equal(np.round(learned, 2) + 0.0, sobel_x), learned
    assert np.abs(ns["start"] - sobel_x).max() > 0.5  # it did start far from Sobel x
    (text,) = _cells(CONVOLUTION, "learn-kernel-text")
    images, history = ns["images"], ns["history"]
    stated = {key: int(re.search(pattern, text).group(1)) for key, pattern in
              [("images", r"(\d+) noise images"), ("batch", r"batches of (\d+)"), ("epochs", r"(\d+) passes"),
               ("steps", r"(\d+) steps")]}
    assert images.shape[0] == stated["images"] and history.params["epochs"] == stated["epochs"]
    assert history.params["steps"] == -(-stated["images"] // stated["batch"])
    assert int(ns["learner"].optimizer.iterations) == stated["steps"]
