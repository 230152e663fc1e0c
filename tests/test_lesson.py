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

from conftest import ROOT, assignments

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
    return keras.Sequential(
        [
            keras.Input(shape=(28, 56, 3)),
            L.Conv2D(8, (3, 3), padding="same", activation="relu"),
            L.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu"),
            L.MaxPooling2D((3, 3)),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ],
        name="sequential",
    )


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
    facts.add(_text(_out(L.Conv1D(4, 3), (100, 2))))
    facts.add(_text(_out(L.Conv3D(4, 3), (16, 32, 32, 1))))
    facts.add(_text(_out(keras.Sequential([L.Conv2D(1, 3) for _ in range(5)]), (28, 28, 1))[:2]))
    facts.add(_text(L.MaxPooling2D().pool_size))
    facts.add(_text(_out(L.MaxPooling2D((1, 2)), (28, 28, 8))))
    return facts


def facts_01(keras) -> set[str]:
    """Facts stated in 01_convolution, each computed by Keras."""
    L = keras.layers
    dense = keras.Sequential([keras.Input(shape=(200, 200, 3)), L.Flatten(), L.Dense(1000)])
    kernel = dense.layers[-1].kernel
    facts = {
        str(kernel.shape[0]),
        str(dense.count_params()),
        str(dense.count_params() * np.dtype(kernel.dtype).itemsize),
    }
    conv = L.Conv2D(32, (3, 3))
    conv.build((None, 32, 32, 3))
    facts |= {_text(conv.kernel.shape), str(conv.count_params()), str(int(np.prod(conv.kernel.shape[:3])))}
    small = L.Conv2D(2, (2, 2))  # the many-channels figure: 3 input channels, 2 filters
    small.build((None, 4, 4, 3))
    facts.add(str(small.count_params()))
    pointwise, per_pixel = L.Conv2D(16, 1), L.Dense(16)  # 1x1 convolution = Dense at every pixel
    pointwise.build((None, 6, 6, 64))
    per_pixel.build((None, 64))
    facts |= {
        _text(pointwise.kernel.shape),
        _text(per_pixel.kernel.shape),
        str(pointwise.count_params()),
        str(per_pixel.count_params()),
    }
    wide = keras.Sequential([keras.Input(shape=(32, 32, 256)), L.Conv2D(256, 3)])
    bottleneck = keras.Sequential([keras.Input(shape=(32, 32, 256)), L.Conv2D(64, 1), L.Conv2D(256, 3)])
    facts |= {str(wide.count_params()), str(bottleneck.count_params())}
    facts |= {str(layer.count_params()) for layer in bottleneck.layers}
    learner = L.Conv2D(1, 3, use_bias=False)  # the layer that learns an edge kernel
    learner.build((None, 16, 16, 1))
    facts.add(str(learner.count_params()))
    return facts


def facts_03(keras) -> set[str]:
    """Facts stated in 03_building_a_cnn: the lesson model's shapes and counts, the
    parameter count of the TensorFlow CNN tutorial's model, and the receptive fields after each layer
    of the lesson's model and of the tutorial's conv/pool stack."""
    L = keras.layers
    model = lesson_model(keras)
    facts = {str(model.count_params()), str(model.layers[3].output.shape[1])}
    for layer in model.layers:
        facts |= {_text(layer.output.shape[1:]), str(layer.count_params())}
    tutorial = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10),
        ]
    )
    facts.add(str(tutorial.count_params()))
    from grader_utils.judge import truth  # receptive fields: TensorFlow's gradient (checked in test_truth.py)
    from grader_utils.judge.stack_cases import CIFAR_STACK, LESSON_MODEL

    for stack in (LESSON_MODEL[:3], CIFAR_STACK):
        facts |= {_text(truth.receptive_field(stack[:n])) for n in range(1, len(stack) + 1)}
    return facts


def _gradients(layer, x: np.ndarray, dout: np.ndarray) -> list[np.ndarray]:
    """TensorFlow's backward pass of a Keras layer for one image x (H, W, C) and an upstream gradient dout of
    the layer's output shape: [dx, then the gradients of the layer's trainable weights]."""
    import tensorflow as tf

    batch = tf.constant(x[None].astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        y = layer(batch)
    grads = tape.gradient(
        y, [batch, *layer.trainable_weights], output_gradients=tf.constant(dout[None].astype("float32"))
    )
    return [np.asarray(grads[0])[0]] + [np.asarray(g) for g in grads[1:]]


def _row_gradients(keras, x_row, kernel_row, dout_row, strides=1, padding="valid") -> list[list[int]]:
    """dx, dkernel, dbias of a one-row, one-channel Conv2D (the rows of notebook 04's lesson), as int lists."""
    conv = keras.layers.Conv2D(1, (1, len(kernel_row)), strides=strides, padding=padding)
    conv.build((None, 1, len(x_row), 1))
    conv.set_weights([np.array(kernel_row, "float32").reshape(1, -1, 1, 1), np.zeros(1, "float32")])
    grads = _gradients(conv, np.array(x_row, "float32").reshape(1, -1, 1), np.array(dout_row).reshape(1, -1, 1))
    return [g.ravel().astype(int).tolist() for g in grads]


def facts_04(keras) -> set[str]:
    """Facts stated in 04_backprop, each computed by TensorFlow's gradients through real Keras layers: the
    shapes of a Conv2D's gradients, dbias of the lesson's row, the gradient of a pixel no strided window
    reaches, how many entries of a tied max-pooling window get the gradient, and the real inputs per window
    of a 'same' average pooling (1 / the gradient of dout = 1)."""
    L = keras.layers
    conv = L.Conv2D(4, (3, 3), strides=(2, 1), padding="same")
    x = np.random.default_rng(0).normal(size=(5, 6, 2))
    y_shape = _out(conv, (5, 6, 2))
    facts = {_text(y_shape)} | {_text(g.shape) for g in _gradients(conv, x, np.ones(y_shape))}
    facts.add(str(_row_gradients(keras, [1, 2, 3, 4, 5], [1, 2, 3], [1, 1, 1])[2][0]))
    facts.add(str(_row_gradients(keras, list(range(1, 9)), [1, 2, 3], [1, 1, 1], strides=2)[0][-1]))
    (tied,) = _gradients(L.MaxPooling2D(2), np.ones((2, 2, 1)), np.ones((1, 1, 1)))
    facts.add(str(int(np.count_nonzero(tied))))
    (shared,) = _gradients(L.AveragePooling2D(2, padding="same"), np.zeros((5, 5, 1)), np.ones((3, 3, 1)))
    facts |= {str(int(round(1 / v))) for v in shared[[0, 0, 4], [0, 4, 4], 0]}
    return facts


def facts_05(keras) -> set[str]:
    """Facts stated in 05_training_well: the im2col matrix of a CIFAR-10 image (tf.image.extract_patches) and the
    kernel as a matrix; a first layer's multiply-adds, FLOPs and bias adds (TensorFlow's profiler); the parameters
    (Keras' count_params) and multiply-adds of one 5x5 against two 3x3 convolutions and of a bottleneck."""
    import tensorflow as tf

    from grader_utils.judge import layer_truth

    L = keras.layers
    patches = tf.image.extract_patches(np.zeros((1, 32, 32, 3), "float32"), [1, 3, 3, 1], [1] * 4, [1] * 4, "SAME")
    conv = L.Conv2D(32, 3, padding="same")
    conv.build((None, 32, 32, 3))
    facts = {_text(np.asarray(patches).reshape(-1, 27).shape), _text(np.asarray(conv.kernel).reshape(27, 32).shape)}
    flops = layer_truth.conv2d_flops((32, 32, 3), 32, 3, 1, "same")
    facts |= {str(layer_truth.conv2d_macs((32, 32, 3), 32, 3, 1, "same")), str(flops["convolution"])}
    facts.add(str(flops["BiasAdd"]))

    def params(shape, *convs):
        return keras.Sequential([keras.Input(shape), *convs]).count_params()

    facts.add(str(params((32, 32, 64), L.Conv2D(64, 5, padding="same"))))
    facts.add(str(params((32, 32, 64), L.Conv2D(64, 3, padding="same"), L.Conv2D(64, 3, padding="same"))))
    facts.add(str(layer_truth.conv2d_macs((32, 32, 64), 64, 5, 1, "same")))
    facts.add(str(2 * layer_truth.conv2d_macs((32, 32, 64), 64, 3, 1, "same")))
    bottleneck = [L.Conv2D(64, 1), L.Conv2D(64, 3, padding="same"), L.Conv2D(256, 1)]
    facts |= {str(params((8, 8, 256), *bottleneck)), str(params((8, 8, 256), L.Conv2D(256, 3, padding="same")))}
    return facts


FACTS = {
    "01_convolution": facts_01,
    "02_padding_strides_pooling": facts_02,
    "03_building_a_cnn": facts_03,
    "04_backprop": facts_04,
    "05_training_well": facts_05,
}


@pytest.fixture(scope="module")
def keras():
    from grader_utils import quiet_tensorflow

    return quiet_tensorflow()


@pytest.mark.parametrize("assignment", assignments())
def test_every_bold_number_is_a_keras_fact(keras, assignment):
    assert assignment in FACTS, f"no Keras facts for {assignment}: add its facts function to FACTS"
    facts = FACTS[assignment](keras)
    for path in (ROOT / "source" / assignment).glob("*.ipynb"):
        tokens = {t.strip("*").strip() for t in BOLD_NUMBER.findall(_markdown(path))}
        assert tokens, "the lesson states no numbers in bold"
        unverified = sorted(tokens - facts)
        assert not unverified, f"{path.name} states numbers Keras does not give: {unverified}"


@pytest.mark.parametrize(
    "path", ["02_padding_strides_pooling/padding_strides_pooling.ipynb", "03_building_a_cnn/building_a_cnn.ipynb"]
)
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
    """Section 3.6 runs for every first Conv2D the exercise allows (issue #12, item 6): all filters, and
    min(17, filters) feature maps next to the image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = keras.layers
    cnn = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            L.Conv2D(filters, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(8, 3),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )
    x_test = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    ns = {
        "cnn": cnn,
        "x_test": x_test,
        "y_test": np.array([3, 1]),
        "class_names": [f"c{i}" for i in range(10)],
        "keras": keras,
        "layers": L,
        "np": np,
        "plt": plt,
    }
    filters_cell, maps_cell = _cells(
        ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb", "cell-32", "cell-34"
    )
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
    """Section 3.5 shows with numbers that softmax gives probabilities and argmax the label (item 7)."""
    L = keras.layers
    model = keras.Sequential([keras.Input(shape=(4,)), L.Dense(10, activation="softmax")])
    probabilities = np.asarray(model.predict(np.random.default_rng(1).normal(size=(3, 4)), verbose=0))
    ns = {
        "probabilities": probabilities,
        "y_test": np.array([2, 0, 1]),
        "np": np,
        "class_names": [f"c{i}" for i in range(10)],
    }
    (cell,) = _cells(ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb", "probabilities-to-label-code")
    exec(cell, ns)
    out = capsys.readouterr().out
    label = int(probabilities[0].argmax())
    assert f"they add up to {probabilities[0].sum():.3f}" in out and "1.000" in out
    assert f"predicted label: {label} = 'c{label}'" in out


def test_receptive_field_demo_cell_prints_the_regions_the_text_states(capsys):
    """Section 3.2's demo cell asks TensorFlow's gradient; its stacks are the lesson's model and the
    tutorial's conv/pool stack, and what it prints is what the bold numbers of the text say."""
    from grader_utils.judge import truth
    from grader_utils.judge.stack_cases import CIFAR_STACK, LESSON_MODEL

    (cell,) = _cells(ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb", "receptive-field-demo")
    ns: dict = {}
    exec(cell, ns)
    for stack, spec in ((ns["lesson_stack"], LESSON_MODEL[:3]), (ns["cifar_stack"], CIFAR_STACK)):
        assert truth.receptive_field(stack) == truth.receptive_field(spec)
        assert [kind for kind, _ in stack] == [kind for kind, _ in spec]
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{name}, after each layer: {[truth.receptive_field(spec[:n]) for n in range(1, len(spec) + 1)]}"
        for name, spec in (("lesson model", LESSON_MODEL[:3]), ("CIFAR-10 model", CIFAR_STACK))
    ]


# --- the 'same' claims of 02 (issue #12, items 1 and 7): size and placement, computed by Keras -------------

NB_02 = ROOT / "source" / "02_padding_strides_pooling" / "padding_strides_pooling.ipynb"


def _old_formula(n: int, k: int, s: int) -> int:
    """The tutorials' 'same': pad (k - 1) // 2 on both sides, then count windows."""
    return (n + 2 * ((k - 1) // 2) - k) // s + 1


def _run_cell(source: str, keras, capsys) -> str:
    exec(source, {"np": np, "math": __import__("math"), "keras": keras, "layers": keras.layers})
    return capsys.readouterr().out


def test_same_size_claims_are_what_keras_computes(keras, capsys):
    """The old formula's sizes against Keras' Conv2D: the text states the counts, and the lesson's counting
    cell prints the same ones. Sizes come from the layer's shape inference; every 7th case also runs the
    layer on a real input (the same size, or the test fails)."""
    wrong, tried = {"odd": 0, "even": 0}, {"odd": 0, "even": 0}
    for k in range(1, 8):
        for s in range(1, 5):
            for n in range(k, 30):
                layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding="same")
                size = int(layer.compute_output_shape((1, n, 1, 1))[1])
                if (sum(tried.values())) % 7 == 0:
                    assert int(layer(np.zeros((1, n, 1, 1), "float32")).shape[1]) == size, (n, k, s)
                parity = "odd" if k % 2 else "even"
                tried[parity] += 1
                wrong[parity] += _old_formula(n, k, s) != size
    text = _markdown(NB_02)
    assert wrong["odd"] == 0, "the lesson says the old formula never gets an odd kernel's size wrong"
    assert f"try {tried['odd']} cases: it is never wrong" in text
    assert f"wrong in {wrong['even']} of {tried['even']} cases" in text
    (cell,) = _cells(NB_02, "same-size-count")
    printed = _run_cell(cell, keras, capsys)
    for parity in ("odd", "even"):
        assert (
            f"{parity} kernels: the old formula gives the wrong size in {wrong[parity]} of {tried[parity]} cases"
            in printed
        )


def test_same_placement_claim_is_what_keras_computes(keras, capsys):
    """n = 6, k = 3, s = 2: the old formula's size is right (3) but its windows are not. Keras' 'same' and the
    tutorials' symmetric padding (NumPy pads, Keras convolves 'valid'), with an all-ones kernel."""
    L = keras.layers
    image = np.arange(36, dtype="float32").reshape(1, 6, 6, 1)
    ones = {"use_bias": False, "kernel_initializer": "ones"}
    keras_same = np.asarray(L.Conv2D(1, 3, strides=2, padding="same", **ones)(image))[0, :, :, 0]
    symmetric = np.asarray(L.Conv2D(1, 3, strides=2, **ones)(np.pad(image, ((0, 0), (1, 1), (1, 1), (0, 0)))))
    symmetric = symmetric[0, :, :, 0]
    assert keras_same.shape[0] == _old_formula(6, 3, 2) == symmetric.shape[0]
    assert not np.array_equal(keras_same, symmetric)
    text = _markdown(NB_02)
    rows = [str(a[0].astype(int).tolist()) for a in (keras_same, symmetric)]
    assert f"Keras' first output row is `{rows[0]}`, symmetric padding gives `{rows[1]}`" in text
    (cell,) = _cells(NB_02, "same-placement")
    printed = _run_cell(cell, keras, capsys)
    assert str(keras_same.astype(int).tolist()) in printed and str(symmetric.astype(int).tolist()) in printed


def test_upsampling_layers_named_in_the_lesson_give_what_it_says(keras):
    """Issue #12, item 3: every layer the pooling section names for upsampling the 7x7 map gives 14x14."""
    text = _markdown(NB_02)
    sentence = text[text.index("upsampling it again by 2") :]
    sentence = sentence[: sentence.index("not 15")]
    named = re.findall(r"`((?:UpSampling2D|Conv2DTranspose)\(.*?\))`", sentence)
    assert {n.split("(")[0] for n in named} == {"UpSampling2D", "Conv2DTranspose"}, named
    assert "**(14, 14)**" in sentence
    for expression in named:
        layer = eval(expression, {**vars(keras.layers)})
        assert _out(layer, (7, 7, 1))[:2] == (14, 14), expression


# --- every default the lessons state is Keras' default, for every layer it is about (issue #25, item 5) ------
#
# 02 once said all pooling arguments were optional with pool_size (2, 2): true of MaxPooling2D, a TypeError for
# AveragePooling2D. The test of that claim built only MaxPooling2D(). Now each default the text states is a claim
# below, in the text's own words, checked against the signature of every layer it is about; a claim about
# pooling in general is about every Max/AveragePooling layer its notebook names; and every "default" or
# "optional" in the lessons must belong to a claim (or be about something other than a Keras argument), so a
# new default in the text cannot go unchecked.

NO_DEFAULT = "no default"  # the argument is required: leaving it out is a TypeError
POOL_SIZE = "pool_size"  # strides: Keras' None, meaning the pool size
POOLING = "every pooling layer the notebook names"

CONV = ("Conv2D",)
DEFAULT_CLAIMS = {  # assignment -> [(the text's words, the layers they are about, argument, the stated default)]
    "01_convolution": [
        ("move the kernel by the stride (default 1 pixel)", CONV, "strides", 1),
        ("how far the kernel moves each step (default `(1, 1)`)", CONV, "strides", (1, 1)),
        ("`activation`: applied to every output value (none by default)", CONV, "activation", None),
        ('none with the default `"valid"`', CONV, "padding", "valid"),
        ("`Conv2D(filters, kernel_size)` (with its default bias)", CONV, "use_bias", True),
    ],
    "02_padding_strides_pooling": [
        ("moves each step, down and across. Default `(1, 1)`", CONV, "strides", (1, 1)),
        ('`padding="valid"` (the default) or `"same"`', CONV, "padding", "valid"),
        ("`MaxPooling2D` defaults it to **(2, 2)**", ("MaxPooling2D",), "pool_size", (2, 2)),
        ("`AveragePooling2D` has no default", ("AveragePooling2D",), "pool_size", NO_DEFAULT),
        ("`strides` (optional) — **defaults to `pool_size`**, so by default", POOLING, "strides", POOL_SIZE),
        ('`padding` (optional) — `"valid"` (default)', POOLING, "padding", "valid"),
        ("Strides default to the pool size", POOLING, "strides", POOL_SIZE),
        ("take Keras' defaults (`strides=(1, 1)` for `Conv2D`", CONV, "strides", (1, 1)),
        ("`strides=None` for pooling", POOLING, "strides", POOL_SIZE),
        ('`strides=None` for pooling, `padding="valid"`)', ("Conv2D", POOLING), "padding", "valid"),
        ("its `strides` default to `pool_size`", POOLING, "strides", POOL_SIZE),
    ],
    "03_building_a_cnn": [
        ("(strides default to the pool size)", POOLING, "strides", POOL_SIZE),
        ("strides that default to `pool_size`", POOLING, "strides", POOL_SIZE),
        ("take Keras' defaults: `strides=1` for `Conv2D`", CONV, "strides", 1),
        ("`strides = pool_size` for pooling", POOLING, "strides", POOL_SIZE),
    ],
}

# "default" and "optional" in the lessons that are not about a Keras argument
NOT_KERAS_DEFAULTS = [
    "With the default settings the whole notebook runs",  # 03: FULL_RUN = False
    "parameters for the default arguments",  # 03: build_cifar_model's own arguments
    '`"adam"` is a good default',  # 03: advice, not an argument's default
    "(optional, graded)",  # 02: an exercise
    "(optional)",  # 04's title: the assignment
    "This assignment is optional",
]

DEFAULT_WORD = re.compile(r"\b(?:default|defaults|optional)\b", re.I)


def _flat_markdown(assignment: str) -> str:
    """An assignment's lesson text, every run of whitespace one space (claims are found however they wrap)."""
    return " ".join(" ".join(_markdown(p).split()) for p in sorted((ROOT / "source" / assignment).glob("*.ipynb")))


def _claimed_layers(layers, text: str) -> list[str]:
    """The Keras layers a claim is about: POOLING stands for every Max/AveragePooling layer the text names."""
    named_pooling = sorted(set(re.findall(r"\b(?:Max|Average)Pooling[123]D\b", text)))
    layers = (layers,) if isinstance(layers, str) else layers
    return sorted({name for layer in layers for name in (named_pooling if layer == POOLING else [layer])})


def _keras_default(keras, name: str, argument: str):
    """What Keras does when `argument` of layer `name` is left out: its signature's default, NO_DEFAULT when it
    is required (and building the layer without it raises TypeError), POOL_SIZE when strides become pool_size."""
    import inspect

    cls = getattr(keras.layers, name)
    parameter = inspect.signature(cls.__init__).parameters[argument]
    required = {"Conv2D": {"filters": 1, "kernel_size": 3}}.get(name, {"pool_size": (3, 2)})
    if parameter.default is inspect.Parameter.empty:
        with pytest.raises(TypeError):
            cls(**{k: v for k, v in required.items() if k != argument})
        return NO_DEFAULT
    if argument == "strides" and parameter.default is None:
        layer = cls(**required)
        assert tuple(layer.strides) == tuple(layer.pool_size) == (3, 2)
        return POOL_SIZE
    return parameter.default


def _same_default(stated, actual) -> bool:
    """A stated int stands for a pair (`strides=1` is `(1, 1)`)."""
    if isinstance(stated, int) and not isinstance(stated, bool) and isinstance(actual, tuple):
        stated = (stated,) * len(actual)
    return stated == actual


@pytest.mark.parametrize("assignment", assignments())
def test_every_default_the_lesson_states_is_keras_default_for_every_layer_it_names(keras, assignment):
    text = _flat_markdown(assignment)
    covered = []
    for words, layers, argument, stated in DEFAULT_CLAIMS.get(assignment, []):
        assert words in text, f"{assignment}: the claim {words!r} is no longer in the text: update DEFAULT_CLAIMS"
        start = text.index(words)
        covered.append((start, start + len(words)))
        names = _claimed_layers(layers, text)
        assert names, words
        for name in names:
            actual = _keras_default(keras, name, argument)
            assert _same_default(stated, actual), f"{words!r}: {name}'s {argument} default is {actual!r}"
    for words in NOT_KERAS_DEFAULTS:
        covered += [(m.start(), m.end()) for m in re.finditer(re.escape(words), text)]
    unclaimed = [
        text[max(m.start() - 60, 0) : m.end() + 30]
        for m in DEFAULT_WORD.finditer(text)
        if not any(a <= m.start() < b for a, b in covered)
    ]
    assert not unclaimed, f"{assignment} states defaults no test checks (add them to DEFAULT_CLAIMS): {unclaimed}"


def test_the_hole_of_issue_25_is_closed(keras):
    """The old wording: a pooling claim is about both pooling layers 02 names, and AveragePooling2D has no
    default pool_size, so "pool_size ... default (2, 2)" about pooling in general fails."""
    text = _flat_markdown("02_padding_strides_pooling")
    assert _claimed_layers(POOLING, text) == ["AveragePooling2D", "MaxPooling2D"]
    assert [_same_default((2, 2), _keras_default(keras, n, "pool_size")) for n in _claimed_layers(POOLING, text)] == [
        False,
        True,
    ]
    assert "all optional" not in text


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
            one.set_weights([k[:, :, c : c + 1, o : o + 1]])
            maps.append(np.asarray(one(x[None, :, :, c : c + 1]))[0, :, :, 0])
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
    from grader_utils.judge import truth

    ns = _run_cells("cell-01", "cell-22", "learn-kernel-demo", correlate2d=truth.correlate2d)
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")
    assert np.array_equal(ns["sobel_x"], sobel_x)
    learned = ns["learned"]
    assert np.array_equal(np.round(learned, 2) + 0.0, sobel_x), learned
    assert np.abs(ns["start"] - sobel_x).max() > 0.5  # it did start far from Sobel x
    (text,) = _cells(CONVOLUTION, "learn-kernel-text")
    images, history = ns["images"], ns["history"]
    stated = {
        key: int(re.search(pattern, text).group(1))
        for key, pattern in [
            ("images", r"(\d+) noise images"),
            ("batch", r"batches of (\d+)"),
            ("epochs", r"(\d+) passes"),
            ("steps", r"(\d+) steps"),
        ]
    }
    assert images.shape[0] == stated["images"] and history.params["epochs"] == stated["epochs"]
    assert history.params["steps"] == -(-stated["images"] // stated["batch"])
    assert int(ns["learner"].optimizer.iterations) == stated["steps"]


# --- 04_backprop: the lesson's gradients are TensorFlow's (issue #15) ------------------------------------------

NB_04 = ROOT / "source" / "04_backprop" / "backprop.ipynb"


def _text_04() -> str:
    """Notebook 04's markdown with every run of whitespace one space (claims are found however they wrap)."""
    return " ".join(_markdown(NB_04).split())


def test_row_examples_of_the_input_gradient_are_what_tensorflow_computes(keras):
    """Sections 4.2-4.4 on one row: each dx and dkernel the text states is TensorFlow's gradient, the full
    correlation with the flipped kernel gives the same numbers, and of the two ways to cut the 'same' padding
    off, only Keras' side (the right) gives TensorFlow's dx."""
    text = _text_04()
    row, kernel = [1, 2, 3, 4, 5], [1, 2, 3]
    first, last, ones = (_row_gradients(keras, row, kernel, d)[0] for d in ([1, 0, 0], [0, 0, 1], [1, 1, 1]))
    assert f"`dout = [1, 0, 0]` (only the first window matters) gives `dx = {first}`" in text
    assert f"`dout = [0, 0, 1]` gives `dx = {last}`" in text
    assert f"the sum of the three copies: `dx = {ones}`" in text
    assert f"`dkernel = {_row_gradients(keras, row, kernel, [1, 1, 1])[1]}`" in text
    full = np.correlate([0, 0, 1, 1, 1, 0, 0], kernel[::-1]).tolist()
    assert full == ones and f"which is TensorFlow's `{ones}`" in text
    strided = _row_gradients(keras, list(range(1, 9)), kernel, [1, 1, 1], strides=2)[0]
    assert f"TensorFlow gives `dx = {strided}`" in text and strided[-1] == 0
    same = _row_gradients(keras, list(range(1, 7)), kernel, [1, 1, 1], strides=2, padding="same")[0]
    padded = _row_gradients(keras, list(range(1, 7)) + [0], kernel, [1, 1, 1], strides=2)[0]  # 'valid' on 7
    assert same == padded[:-1] != padded[1:]
    assert f"The padded row has 7 pixels and gets `{padded}`" in text
    assert f"leaves TensorFlow's `dx = {same}`" in text and f"gives `{padded[1:]}`: wrong everywhere" in text


def test_04_p_is_an_input_position_and_the_total_padding_is_pad_total(keras):
    """Issue #25, item 7: `p` names an input position (x[p], e_p) and nothing else; the total padding of "same" is
    `pad_total`, and the amounts the text states are what Keras' output size implies:
    (n_out - 1) * s + k - n, n_out from Keras' Conv2D."""
    text = _text_04()
    assert "`x[p]`" in text and "`e_p`" in text
    assert not re.search(r"`p = |floor\(p / 2\)|when `p` is odd", text)
    assert "`floor(pad_total / 2)` rows on top, the rest, one more when `pad_total` is odd" in text

    def pad_total(n: int, k: int, s: int) -> int:
        layer = keras.layers.Conv2D(1, k, strides=s, padding="same")
        n_out = int(layer.compute_output_shape((1, n, n, 1))[1])
        return max((n_out - 1) * s + k - n, 0)

    assert f"Keras pads `pad_total = {pad_total(6, 3, 2)}` pixel, at the right only" in text  # the row of 6
    assert f"since `pad_total = {pad_total(5, 3, 2)}`" in text  # the 5x5 figure


def _first_max_scatter(x: np.ndarray, dout: np.ndarray, pool: int, stride: int, padding: str) -> np.ndarray:
    """Max pooling's input gradient with every window's dout sent to its FIRST maximum in reading order (the
    rule the lesson states), written independently of the notebook's solution; x: (H, W), dout: (H_out, W_out)."""
    h, w = x.shape
    top = left = 0
    if padding == "same":
        top = max((dout.shape[0] - 1) * stride + pool - h, 0) // 2
        left = max((dout.shape[1] - 1) * stride + pool - w, 0) // 2
    dx = np.zeros((h, w))
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            cells = [
                (r, c)
                for r in range(i * stride - top, i * stride - top + pool)
                for c in range(j * stride - left, j * stride - left + pool)
                if 0 <= r < h and 0 <= c < w
            ]
            best = max(x[r, c] for r, c in cells)
            r, c = next(rc for rc in cells if x[rc] == best)
            dx[r, c] += dout[i, j]
    return dx


def test_max_pooling_ties_go_to_the_first_maximum_as_the_lesson_says_in_bold(keras):
    """Section 4.6: TensorFlow gives a window's whole dout to the first of its tied maxima (reading order), on
    many inputs with ties, overlapping windows and 'same' borders; marking every tied value would differ."""
    import tensorflow as tf

    text = _text_04()
    assert (
        "**On the CPU, TensorFlow sends the whole `dout` to the first of the tied values**, in reading order (row "
        "by row, top to bottom, each row left to right)"
    ) in text
    assert "TensorFlow on the CPU picks the first one when values tie" in text  # the summary says the same
    rng = np.random.default_rng(15)
    differs = 0
    for pool, stride, padding in [(2, 2, "valid"), (2, 1, "valid"), (3, 2, "same"), (2, 2, "same"), (3, 1, "same")]:
        for _ in range(4):
            x = rng.integers(0, 3, size=(5, 6)).astype("float32")  # values 0, 1, 2: many ties
            layer = keras.layers.MaxPooling2D(pool, strides=stride, padding=padding)
            dout = rng.normal(size=_out(layer, (5, 6, 1))[:2])
            with tf.device("/CPU:0"):  # the rule the text states is the CPU's
                (dx,) = _gradients(layer, x[:, :, None], dout[:, :, None])
            np.testing.assert_allclose(dx[:, :, 0], _first_max_scatter(x, dout, pool, stride, padding), atol=1e-6)
            differs += not np.allclose(dx[:, :, 0], np.where(x == x.max(), 1.0, 0.0))
    assert differs


def test_average_pooling_same_border_counts_only_real_inputs(keras):
    """Section 4.7's 5x5 example: inner windows share dout among 4 inputs, the last row and column among 2, the
    bottom-right pixel gets the whole of it."""
    (dx,) = _gradients(keras.layers.AveragePooling2D(2, padding="same"), np.zeros((5, 5, 1)), np.ones((3, 3, 1)))
    expected = np.full((5, 5), 0.25)
    expected[4, :], expected[:, 4], expected[4, 4] = 0.5, 0.5, 1.0
    np.testing.assert_allclose(dx[:, :, 0], expected)
    text = _text_04()
    assert "each input of an inner window `1/4`" in text and "the last column and row `1/2`" in text


def _run_04(*ids: str) -> dict:
    """Run cells of notebook 04 (its solutions included) in one namespace, figures on matplotlib's Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict = {}
    for source in _cells(NB_04, *ids):
        exec(source, namespace)
    plt.close("all")
    return namespace


SOLUTIONS_04 = (
    "imports",
    "to-pair",
    "conv2d-forward",
    "conv2d-backward",
    "max-pool2d-backward",
    "average-pool2d-backward",
)


def test_numerical_check_cell_passes_the_reference_backward_pass(keras, capsys):
    """Section 4.5: with right functions the check cell's relative errors are below 1e-6, as the text says."""
    _run_04(*SOLUTIONS_04, "conv-gradcheck")
    errors = [float(e) for e in re.findall(r"(\d\.\de-\d\d)", capsys.readouterr().out)]
    assert len(errors) == 9 and max(errors) < 1e-6
    assert "All three relative errors should be below `1e-6`" in _text_04()


def test_training_demo_curves_coincide_with_right_functions(keras):
    """Section 4.8: the NumPy training with the reference solutions follows Keras' loss curve step by step
    (same start, plain SGD), the loss falls, and the data is what the text says."""
    ns = _run_04(*SOLUTIONS_04, "training-demo")
    yours, theirs = np.array(ns["yours"]), np.array(ns["keras_losses"])
    assert yours.shape == theirs.shape == (ns["steps"],)
    assert np.max(np.abs(yours - theirs)) < 1e-4
    assert theirs[-1] < theirs[0] / 2
    text = _text_04()
    assert f"makes {ns['n_images']} small `{ns['size']}x{ns['size']}` images of three kinds" in text


def test_conv2d_transpose_forward_is_the_conv2d_input_gradient(keras):
    """Section 4.3's last claim: Conv2DTranspose with a Conv2D's kernel (the same array: Keras' layouts agree)
    computes, forward, what TensorFlow's backward pass of that Conv2D gives for its input (on inputs that the
    windows cover exactly: Conv2DTranspose's 'valid' output has (n - 1) s + max(k, s) rows)."""
    text = _text_04()
    assert "its forward pass is this backward pass" in text and "`Conv2DTranspose`" in text
    rng = np.random.default_rng(43)
    L = keras.layers
    for (h, w), kernel, strides in [((7, 9), (3, 3), (2, 3)), ((5, 5), (3, 3), (1, 1)), ((6, 4), (2, 2), (2, 2))]:
        k = rng.normal(size=(*kernel, 2, 3)).astype("float32")
        conv = L.Conv2D(3, kernel, strides=strides, use_bias=False)
        conv.build((None, h, w, 2))
        conv.set_weights([k])
        dout = rng.normal(size=_out(conv, (h, w, 2)))
        (dx,) = _gradients(conv, rng.normal(size=(h, w, 2)), dout)[:1]
        transposed = L.Conv2DTranspose(2, kernel, strides=strides, use_bias=False)
        transposed.build((None, *dout.shape))
        transposed.set_weights([k])
        np.testing.assert_allclose(np.asarray(transposed(dout[None].astype("float32")))[0], dx, rtol=1e-5, atol=1e-5)


# --- 03's FULL_RUN (issue #25, item 6): how much longer, from the notebook's own constants ------------------

NB_03 = ROOT / "source" / "03_building_a_cnn" / "building_a_cnn.ipynb"


def _if_full_run(source: str, name: str) -> tuple:
    """(value with FULL_RUN, value without) of `name = A if FULL_RUN else B` in a code cell."""
    import ast

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            value = node.value
            assert isinstance(value, ast.IfExp) and ast.unparse(value.test) == "FULL_RUN", ast.unparse(value)
            return ast.literal_eval(value.body), ast.literal_eval(value.orelse)
    raise AssertionError(f"no {name} = ... if FULL_RUN else ... in the cell")


def test_full_run_is_as_many_times_longer_as_the_text_says():
    """The settings cell's constants: FULL_RUN trains on all of CIFAR-10's training images (n_train = None; the
    count the text states) for more epochs; the text and the cell's comment state the ratio of images x epochs,
    and the accuracy is "about", not a promise the course cannot check offline."""
    text = " ".join(_markdown(NB_03).split())
    (cell,) = _cells(NB_03, "cell-13")
    (full_images, images), (full_epochs, epochs) = _if_full_run(cell, "n_train"), _if_full_run(cell, "EPOCHS")
    assert full_images is None  # all of them
    all_images = int(re.search(r"CIFAR-10 has ([\d,]+) training", text).group(1).replace(",", ""))
    more_images, more_epochs = all_images // images, full_epochs // epochs
    assert more_images * images == all_images and more_epochs * epochs == full_epochs
    ratio = more_images * more_epochs
    assert (
        f"`FULL_RUN = False` trains on {images:,} images for {epochs} epochs" in text
        and f"`FULL_RUN = True` trains on all {all_images:,} for {full_epochs} epochs: {more_images} times the images "
        f"for {more_epochs} times the epochs, so about {ratio} times longer"
        in text
    )
    assert f"(about {ratio}x longer; about 70% on CIFAR-10)" in cell
    assert "It should reach about 70% test accuracy" in text and "at least 70" not in text


NB_05 = ROOT / "source" / "05_training_well" / "training_well.ipynb"


def test_05_decimals_are_what_keras_computes(keras):
    """Section 5.1's ln(10) is Keras' loss of a uniform prediction over CIFAR-10's classes, to three decimals, and
    5.3's mean and variance of the channel 1..8 are what a BatchNormalization layer normalises with (its moving
    statistics after one step from 0 and 1 at momentum 0 are the batch's)."""
    from grader_utils.judge import layer_truth

    text = " ".join(_markdown(NB_05).split())
    assert f"`ln(10) = {layer_truth.initial_loss(10):.3f}`" in text
    values = np.arange(1, 9, dtype="float32").reshape(2, 2, 2, 1)
    one, zero = np.ones(1, "float32"), np.zeros(1, "float32")
    _, mean, var = layer_truth.batchnorm_forward(values, one, zero, zero, one, 0.0, 1e-3, True)
    assert f"the mean is `{float(mean[0]):g}` and the variance `{float(var[0]):g}`" in text


def test_05_dropout_demo_doubles_kept_values_at_rate_one_half(keras):
    """Section 5.2: 'With rate=0.5, kept values are doubled'; Keras' Dropout keeps values of 2.0 and leaves the input
    unchanged at inference."""
    text = " ".join(_markdown(NB_05).split())
    assert "`rate=0.5`, kept values are doubled" in text
    out = np.asarray(keras.layers.Dropout(0.5, seed=1)(np.ones((2, 8), "float32"), training=True))
    assert set(np.unique(out)) == {0.0, 2.0}
