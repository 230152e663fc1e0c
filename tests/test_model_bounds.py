"""The walk over Keras model and compile configurations (plain dicts, no Keras): objects only where their slot
expects them, numbers and metric state bounded. The configurations are the shapes Keras 3 writes
(``model.to_json()``, ``model.get_compile_config()``); test_model_verdicts checks real Keras output and the
rebuild path."""

from __future__ import annotations

import copy
import json

import pytest

from grader_utils.judge import model_bounds
from grader_utils.judge.model_bounds import compile_problem, model_problem


def _obj(module, cls, **config):
    return {"module": module, "class_name": cls, "config": config, "registered_name": None}


POLICY = _obj("keras", "DTypePolicy", name="float32")


def _dense(units=10, activation="softmax", **extra):
    return {
        **_obj(
            "keras.layers",
            "Dense",
            name="dense",
            dtype=POLICY,
            units=units,
            activation=activation,
            kernel_initializer=_obj("keras.initializers", "GlorotUniform", seed=2**40),
            kernel_regularizer=_obj("keras.regularizers", "L2", l2=0.01),
            kernel_constraint=None,
            **extra,
        ),
        "build_config": {"input_shape": [None, 144]},
    }


def _compile(*metrics, optimizer=None):
    return {
        "optimizer": optimizer or _obj("keras.optimizers", "Adam", learning_rate=0.001, epsilon=1e-7),
        "loss": "sparse_categorical_crossentropy",
        "loss_weights": None,
        "metrics": ["accuracy", *metrics],
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _model(*layers, compile_config=None):
    model = _obj(
        "keras",
        "Sequential",
        name="sequential",
        dtype=POLICY,
        layers=[_obj("keras.layers", "InputLayer", batch_shape=[None, 144], dtype="float32"), *layers],
        build_input_shape=[None, 144],
    )
    model["build_config"] = {"input_shape": [None, 144]}
    if compile_config is not None:
        model["compile_config"] = compile_config
    return model


def test_an_ordinary_model_and_compile_configuration_pass():
    assert model_problem(_model(_dense(64, "relu"), _dense(), compile_config=_compile())) is None
    assert compile_problem(_compile(_obj("keras.metrics", "MeanIoU", num_classes=10))) is None
    schedule = _obj("keras.optimizers.schedules", "ExponentialDecay", initial_learning_rate=0.1, decay_steps=100)
    assert compile_problem(_compile(optimizer=_obj("keras.optimizers", "SGD", learning_rate=schedule))) is None
    assert compile_problem(None) is None


def test_a_layer_nested_in_the_activation_slot_is_refused():
    # the attack: Keras builds a layer given as another layer's activation, weights and all,
    # and the size check counted only the model's list of layers
    hidden = _dense(10**6 // 144, activation=_dense(10**6, "relu"))
    problem = model_problem(_model(hidden))
    assert problem and "Dense layer is nested in activation" in problem
    # a layer object anywhere inside a layer: an initializer's config, a list
    inner = _dense()
    inner["config"]["kernel_initializer"]["config"]["seed"] = _dense()
    assert "nested" in model_problem(_model(inner))
    # a layer without its module, inside a layer, is a layer too
    bare = {k: v for k, v in _dense().items() if k != "module"}
    assert "nested" in model_problem(_model(_dense(activation=bare)))


def test_a_metric_of_sixteen_thousand_classes_is_refused_in_either_configuration():
    # the attack: ~900 bytes of compile settings made a 16,000 x 16,000 confusion matrix
    metric = _obj("keras.metrics", "MeanIoU", num_classes=16_000, name="m", dtype="int64")
    assert len(json.dumps(_compile(metric))) < 1200
    problem = compile_problem(_compile(metric))
    assert problem and "256,000,000 values (MeanIoU)" in problem
    # model.to_json() carries the compile settings: model_from_json would compile them
    assert "MeanIoU" in model_problem(_model(_dense(), compile_config=_compile(metric)))


@pytest.mark.parametrize(
    "metric,word",
    [
        (_obj("keras.metrics", "OneHotIoU", num_classes=1001, target_class_ids=[0]), "OneHotIoU"),
        (_obj("keras.metrics", "AUC", num_thresholds=200_000, num_labels=10, multi_label=True), "AUC"),
        (_obj("keras.metrics", "AUC", num_thresholds=10**9), "larger than"),
        (_obj("keras.metrics", "AUC", num_thresholds=float("nan")), "larger than"),
        (_obj("keras.metrics", "Precision", thresholds=[0.5] * 20_000), "20,000 items"),
        (_obj("keras.layers", "Dense", units=3), "nested"),
        (_obj("builtins", "function", fn="x"), "does not rebuild"),
        ({**_obj("keras.metrics", "Mine"), "registered_name": "Custom>Mine"}, "custom object"),
    ],
)
def test_metrics_state_numbers_and_foreign_objects_are_bounded(metric, word):
    problem = compile_problem(_compile(metric))
    assert problem and word in problem, problem


def test_many_small_metrics_add_up():
    metric = _obj("keras.metrics", "MeanIoU", num_classes=300)  # 90,000 values each
    assert compile_problem(_compile(*[metric] * 11)) is None
    assert "keep 1,080,000 values" in compile_problem(_compile(*[metric] * 12))


def test_integers_are_bounded_but_seeds_are_free():
    assert model_problem(_model(_dense(units=model_bounds.MAX_NUMBER))) is None
    assert "units = 1000001" in model_problem(_model(_dense(units=model_bounds.MAX_NUMBER + 1)))
    assert "units = 1e+300" in model_problem(_model(_dense(units=1e300)))
    odd = _dense()
    odd["config"]["whatever"] = -(10**12)
    assert "whatever" in model_problem(_model(odd))


def test_optimizers_losses_and_metrics_belong_in_compile_settings_only():
    adam = _obj("keras.optimizers", "Adam", learning_rate=0.001)
    assert "keras.optimizers.Adam" in model_problem(_model(_dense(activation=adam)))
    assert "keras.layers.Dense" not in (compile_problem(_compile()) or "")
    assert "nested" in compile_problem(_compile(_dense()))


def test_size_and_depth_of_the_walk_are_bounded():
    deep: dict = {"x": 1}
    for _ in range(model_bounds.MAX_DEPTH + 5):
        deep = {"x": deep}
    extra = _dense()
    extra["config"]["deep"] = deep
    assert "deeply nested" in model_problem(_model(extra))
    wide = _dense()
    wide["config"]["wide"] = [[0] * 9000 for _ in range(7)]
    assert "too large" in model_problem(_model(wide))
    very_deep: list = []
    for _ in range(5000):
        very_deep = [very_deep]
    assert model_problem(_model(_dense(activation=very_deep)))
    assert model_problem("not a dict") and compile_problem([1])


def test_the_walk_does_not_change_the_configuration():
    config = _model(_dense(), compile_config=_compile())
    before = copy.deepcopy(config)
    model_problem(config)
    assert config == before
