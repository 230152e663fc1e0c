"""sandbox/model_call.py: a model leaves the student's process as Keras JSON and compile settings as JSON text,
never as a live object; anything but a model is refused with the reason."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def keras():
    from grader_utils.quiet import quiet_tensorflow

    return quiet_tensorflow()


def _small(keras, units: int = 3):
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(units, activation="softmax")])


def test_a_model_crosses_as_its_json(keras):
    from grader_utils.sandbox.model_call import sandbox_call

    out = sandbox_call(
        {"func": "build", "keras": "model", "kwargs": {"units": 5}}, {"build": lambda units: _small(keras, units)}
    )
    assert set(out) == {"model_json"} and isinstance(out["model_json"], str)
    rebuilt = keras.models.model_from_json(out["model_json"])
    assert rebuilt.layers[-1].units == 5 and rebuilt.count_params() == _small(keras, 5).count_params()


def test_both_calls_are_sent_when_asked_twice(keras):
    from grader_utils.sandbox.model_call import sandbox_call

    sizes = iter([3, 4])
    out = sandbox_call({"func": "build", "keras": "twice"}, {"build": lambda: _small(keras, next(sizes))})
    first, second = (json.loads(out[k]) for k in ("model_json", "second_json"))
    assert first != second  # judged each by what it is


def test_compile_settings_cross_as_json_text(keras):
    from grader_utils.sandbox.model_call import sandbox_call

    def compile_model(model):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    ns = {"compile_model": compile_model, "build": lambda: _small(keras)}
    out = sandbox_call({"func": "compile_model", "keras": "compiled", "model": {"func": "build"}}, ns)
    assert out["returned"] == "Sequential"
    assert json.loads(out["compile_config"])["loss"] == "sparse_categorical_crossentropy"
    nothing = sandbox_call(
        {"func": "forgets", "keras": "compiled", "model": {"json": _small(keras).to_json()}},
        {"forgets": lambda model: None},
    )
    assert nothing["returned"] == "NoneType" and nothing["compile_config"] is None and nothing["model_json"]


def test_anything_but_a_model_is_refused(keras):
    from grader_utils.sandbox.model_call import sandbox_call

    with pytest.raises(TypeError, match="build should return a Keras model, but it returned dict"):
        sandbox_call({"func": "build", "keras": "model"}, {"build": lambda: {"layers": []}})
    with pytest.raises(ValueError, match="unknown model call"):
        sandbox_call({"func": "build", "keras": "pickle"}, {"build": lambda: None})
