"""The grading process refuses a model too large to build, from its JSON, before Keras allocates it."""

from __future__ import annotations

import json
import resource

import pytest

pytestmark = [pytest.mark.keras]


@pytest.fixture(scope="module")
def keras():
    from grader_utils.quiet import quiet_tensorflow

    return quiet_tensorflow()


def _sequential(keras, *layers):
    return keras.Sequential([keras.Input((32, 32, 3)), *layers])


def test_counts_match_keras_for_the_layers_the_course_uses(keras):
    from grader_utils.judge import model_verdicts as model_engine

    L = keras.layers
    model = _sequential(
        keras,
        L.Conv2D(16, 3),
        L.BatchNormalization(),
        L.MaxPooling2D(),
        L.SeparableConv2D(32, 3),
        L.DepthwiseConv2D(3),
        L.AveragePooling2D(2),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.2),
        L.Dense(64),
        L.Dense(10, activation="softmax"),
    )
    text = model.to_json()
    old = model_engine.MAX_MODEL_PARAMS
    try:
        model_engine.MAX_MODEL_PARAMS = model.count_params()
        assert model_engine.model_size_problem(text) is None
        model_engine.MAX_MODEL_PARAMS = model.count_params() - 1
        assert "far too large" in model_engine.model_size_problem(text)
    finally:
        model_engine.MAX_MODEL_PARAMS = old


@pytest.mark.parametrize("change", ["units", "upsampling", "functional", "lambda"])
def test_a_few_kilobytes_of_json_cannot_make_the_grader_allocate_gigabytes(keras, change):
    from grader_utils.judge import model_verdicts as model_engine

    L = keras.layers
    if change == "units":  # 3072 x 10^7 weights: 123 GB
        config = json.loads(_sequential(keras, L.Flatten(), L.Dense(10)).to_json())
        config["config"]["layers"][-1]["config"]["units"] = 10**7
    elif change == "upsampling":  # 32000 x 32000 x 3 values per image
        config = json.loads(_sequential(keras, L.UpSampling2D(1000), L.Conv2D(1, 1)).to_json())
    elif change == "functional":
        inputs = keras.Input((32, 32, 3))
        config = json.loads(keras.Model(inputs, L.Dense(10)(L.Flatten()(inputs))).to_json())
    else:
        config = json.loads(_sequential(keras, L.Flatten(), L.Dense(10)).to_json())
        config["config"]["layers"][-1]["class_name"] = "Lambda"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError) as refused:
        model_engine.rebuild(json.dumps(config))
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200 * 1024, grown_kb  # refused from the configuration, nothing built
    assert {
        "units": "larger than the grader allows",
        "upsampling": "far too large",
        "functional": "Sequential",
        "lambda": "does not rebuild",
    }[change] in str(refused.value)


def _grown_kb(fn):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = fn()
    return got, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before


def test_the_course_models_and_their_compile_settings_pass_the_walk(keras):
    from grader_utils.judge.model_bounds import compile_problem, model_problem
    from grader_utils.judge.models import reference_compile_model

    model = reference_compile_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model_problem(json.loads(model.to_json())) is None
    assert compile_problem(model.get_compile_config()) is None
    m = keras.metrics
    model.compile(
        optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[m.SparseCategoricalAccuracy(), m.SparseTopKCategoricalAccuracy(3), m.MeanIoU(10), m.AUC()],
    )
    assert model_problem(json.loads(model.to_json())) is None
    assert compile_problem(model.get_compile_config()) is None


def test_a_layer_in_the_activation_slot_is_refused_before_keras_builds_it(keras):
    # the attack: the size check counted the model's list of layers; Keras builds the layer in
    # the activation slot too (here 3072 x 10^6 weights: 12 GB)
    from grader_utils.judge import model_verdicts as model_engine

    L = keras.layers
    config = json.loads(_sequential(keras, L.Flatten(), L.Dense(10)).to_json())
    hidden = json.loads(json.dumps(config["config"]["layers"][-1]))
    hidden["config"]["units"] = 10**6
    config["config"]["layers"][-1]["config"]["activation"] = hidden
    with pytest.raises(ValueError) as refused:
        _grown_kb(lambda: model_engine.rebuild(json.dumps(config)))
    assert "Dense layer is nested in activation" in str(refused.value)


def test_a_build_config_for_another_shape_is_refused(keras):
    # Keras builds a layer for the shape its build_config names: 900,000 x 1,000 weights (3.6 GB) for a
    # model whose layers, counted for the input they receive, are small
    from grader_utils.judge import model_verdicts as model_engine

    L = keras.layers
    config = json.loads(_sequential(keras, L.Flatten(), L.Dense(1000)).to_json())
    config["config"]["layers"][-1]["build_config"]["input_shape"] = [None, 900_000]
    assert "for input shape (None, 900000), but it receives (None, 3072)" in model_engine.model_size_problem(
        json.dumps(config)
    )
    config = json.loads(_sequential(keras, L.Flatten(), L.Dense(10)).to_json())
    config["config"]["build_input_shape"] = [None, 300, 300, 3]
    assert "input shape (None, 300, 300, 3)" in model_engine.model_size_problem(json.dumps(config))


def test_compile_settings_with_a_16000_class_metric_are_refused_before_keras_compiles(keras):
    # the attack: ~900 bytes of compile settings took the grading process from 1.4 to 5.7 GiB
    from grader_utils.judge import model_verdicts as model_engine

    model = _sequential(keras, L := keras.layers.Flatten(), keras.layers.Dense(10))
    del L
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[keras.metrics.MeanIoU(3)])
    compile_config = json.loads(json.dumps(model.get_compile_config()))
    compile_config["metrics"][0]["config"]["num_classes"] = 16_000
    text = json.dumps(compile_config)
    assert len(text) < 1200
    value = {"model_json": model.to_json(), "compile_config": text}
    (_, failure), grown = _grown_kb(lambda: model_engine._compiled(value))
    assert failure is not None and "MeanIoU" in failure.message, failure
    assert grown < 200 * 1024, grown
    # the same metric inside the model's JSON (model_from_json compiles it too)
    config = json.loads(model.to_json())
    config["compile_config"] = compile_config
    assert "MeanIoU" in model_engine.model_size_problem(json.dumps(config))
