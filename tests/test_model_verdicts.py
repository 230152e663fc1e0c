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
        "units": "far too large",
        "upsampling": "far too large",
        "functional": "Sequential",
        "lambda": "does not rebuild",
    }[change] in str(refused.value)
