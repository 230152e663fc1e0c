"""Model checks of assignment 03: each typical mistake is named, right models pass, and the
graded training run separates a learning model from a broken one by a wide margin."""

from __future__ import annotations

import pytest

from grader_utils.judge import models as mc
from grader_utils.judge import training
from grader_utils.model_checks import check_build_lesson_model
from grader_utils import quiet_tensorflow

pytestmark = pytest.mark.keras

keras = quiet_tensorflow()
L = keras.layers


def lesson(strides=(2, 3), last_activation="softmax", pool=L.MaxPooling2D, input_shape=(28, 56, 3)):
    return keras.Sequential([keras.Input(shape=input_shape),
                             L.Conv2D(8, (3, 3), padding="same", activation="relu"),
                             L.Conv2D(5, (3, 2), strides=strides, padding="valid", activation="relu"),
                             pool((3, 3)), L.Flatten(), L.Dense(3, activation=last_activation)])


def cifar(input_shape=(32, 32, 3), num_classes=10, activation="softmax", filters=32, head=L.Flatten):
    return keras.Sequential([keras.Input(shape=input_shape), L.Conv2D(filters, 3, activation="relu"),
                             L.MaxPooling2D(), L.Conv2D(2 * filters, 3, activation="relu"), L.MaxPooling2D(),
                             head(), L.Dense(64, activation="relu"),
                             L.Dense(num_classes, activation=activation)])


def compiled(loss="sparse_categorical_crossentropy", metrics=("accuracy",), optimizer="adam"):
    def compile_fn(model):
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
        return model
    return compile_fn


def test_lesson_model_passes_and_each_difference_is_named():
    assert mc.lesson_model_problems(lesson()) == []
    assert mc.lesson_model_problems(lesson(strides=(1, 1))) == \
        ["layer 2 (Conv2D): expected strides (2, 3), got (1, 1)"]
    assert mc.lesson_model_problems(lesson(pool=L.AveragePooling2D)) == \
        ["layer 3: expected MaxPooling2D, got AveragePooling2D"]
    assert "activation 'softmax', got 'relu'" in mc.lesson_model_problems(lesson(last_activation="relu"))[0]
    assert "input: expected shape (None, 28, 56, 3)" in mc.lesson_model_problems(lesson(input_shape=(28, 28, 3)))[0]
    assert "keras.Sequential" in mc.lesson_model_problems(object())[0]


def test_lesson_check_prints_and_raises(capsys):
    check_build_lesson_model(lesson, fresh=True)
    assert "PASSED build_lesson_model" in capsys.readouterr().out
    calls = []

    def first_call_only():  # right once, then a model without its last layer
        calls.append(1)
        model = lesson()
        return model if len(calls) == 1 else keras.Sequential(model.layers[:-1])

    with pytest.raises(AssertionError, match="second call"):
        check_build_lesson_model(first_call_only, fresh=True)
    with pytest.raises(NotImplementedError, match="build_lesson_model is not implemented yet"):
        check_build_lesson_model(lambda: (_ for _ in ()).throw(NotImplementedError()))


def test_cifar_model_problems_name_each_mistake():
    assert mc.cifar_model_problems(cifar(), (32, 32, 3), 10) == []
    assert mc.cifar_model_problems(cifar(head=L.GlobalAveragePooling2D), (32, 32, 3), 10) == []
    assert "outputs logits" in " ".join(mc.cifar_model_problems(cifar(activation=None), (32, 32, 3), 10))
    too_big = cifar(filters=128)
    assert f"{too_big.count_params():,} parameters" in " ".join(mc.cifar_model_problems(too_big, (32, 32, 3), 10))
    assert "num_classes = 5 units" in " ".join(mc.cifar_model_problems(cifar(), (32, 32, 3), 5))
    flat_only = keras.Sequential([keras.Input(shape=(32, 32, 3)), L.Flatten(), L.Dense(10, activation="softmax")])
    problems = " ".join(mc.cifar_model_problems(flat_only, (32, 32, 3), 10))
    assert "two Conv2D" in problems and "two pooling" in problems


def test_compile_problems_name_each_mistake():
    assert mc.compile_problems(compiled()(cifar())) == []
    assert "one-hot" in mc.compile_problems(compiled(loss="categorical_crossentropy")(cifar()))[0]
    assert "accuracy" in mc.compile_problems(compiled(metrics=())(cifar()))[0]
    assert "not compiled" in mc.compile_problems(cifar())[0]
    mse = mc.compile_problems(compiled(loss="mse")(cifar()))
    assert mse and "sparse_categorical_crossentropy" in " ".join(mse)


@pytest.mark.slow
def test_training_run_is_reproducible_and_measures_what_it_reports():
    run = training.training_run(cifar, compiled(), seed=1)
    assert run.accuracy >= training.TRAINING_THRESHOLD + 0.3, run    # a correct CNN clears the bar by a wide margin
    assert run.probabilities and run.finite and run.trainable_weights == 8
    assert run.loss_after < run.loss_before / 2, run            # it learned: the loss fell
    assert run.untrained_accuracy < training.TRAINING_THRESHOLD, run  # and the bar is above what it knew untrained
    assert training.training_run(cifar, compiled(), seed=1) == run    # same seed, same data, same result


def _run(**changes):
    fields = dict(accuracy=0.12, untrained_accuracy=0.1, loss_before=2.30, loss_after=2.30, probabilities=True,
                  finite=True, trainable_weights=8)
    return training.TrainingRun(**{**fields, **changes})


def test_training_problem_names_the_likely_cause():
    assert training._training_problem(_run(accuracy=training.TRAINING_THRESHOLD, loss_after=0.9)) is None
    assert "softmax" in training._training_problem(_run(accuracy=0.9, probabilities=False))
    assert "far too large" in training._training_problem(_run(accuracy=0.1, finite=False, probabilities=False))
    assert "trainable=False" in training._training_problem(_run(trainable_weights=0))
    assert "went up" in training._training_problem(_run(loss_after=3.1))
    assert "went up" in training._training_problem(_run(loss_after=float("nan")))
    assert "hardly changed" in training._training_problem(_run(loss_after=2.29))
    assert "too slowly" in training._training_problem(_run(loss_after=1.9))
    assert f"at least {training.TRAINING_THRESHOLD:.0%}" in training._training_problem(_run())
