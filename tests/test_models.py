"""judge/models.py: each typical mistake in a model of assignment 03 (the lesson's model, the CIFAR model, its
compile settings) is named, and right models pass."""

from __future__ import annotations

import pytest

from grader_utils.judge import models as mc
from model_builders import L, cifar, compiled, keras, lesson

pytestmark = pytest.mark.keras


def test_lesson_model_passes_and_each_difference_is_named():
    assert mc.lesson_model_problems(lesson()) == []
    assert mc.lesson_model_problems(lesson(strides=(1, 1))) == ["layer 2 (Conv2D): expected strides (2, 3), got (1, 1)"]
    assert mc.lesson_model_problems(lesson(pool=L.AveragePooling2D)) == [
        "layer 3: expected MaxPooling2D, got AveragePooling2D"
    ]
    assert "activation 'softmax', got 'relu'" in mc.lesson_model_problems(lesson(last_activation="relu"))[0]
    assert "input: expected shape (None, 28, 56, 3)" in mc.lesson_model_problems(lesson(input_shape=(28, 28, 3)))[0]
    assert "keras.Sequential" in mc.lesson_model_problems(object())[0]


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


def test_too_few_filters_and_slow_optimizers_are_refused_visibly_before_the_training_run():
    """Issue #25 item 2: an answer the graded training run would fail (4 filters per Conv2D layer: 13.5%; plain
    SGD: 20-23%, against a 40% bar; benchmarks/bench_training_check.py) fails a visible check first, which
    says what the exercise requires; the limits themselves pass (their training is measured in
    tests/test_training.py and docs/benchmarks.md)."""
    few = " ".join(mc.cifar_model_problems(cifar(filters=4), (32, 32, 3), 10))
    assert f"at least {mc.MIN_CIFAR_FILTERS} filters" in few and "with 4" in few and "graded training run" in few
    assert mc.cifar_model_problems(cifar(filters=mc.MIN_CIFAR_FILTERS), (32, 32, 3), 10) == []
    for optimizer, what in (("sgd", "SGD with momentum 0"), ("adagrad", "Adagrad"), ("adadelta", "Adadelta")):
        [problem] = mc.compile_problems(compiled(optimizer=optimizer)(cifar()))
        assert problem.startswith(f"the optimizer ({what}) learns too slowly for the graded training run"), problem
    assert "momentum 0.5" in mc.compile_problems(compiled(optimizer=keras.optimizers.SGD(momentum=0.5))(cifar()))[0]
    for optimizer in ("adam", "rmsprop", "nadam", "adamw", keras.optimizers.SGD(momentum=0.9)):
        assert mc.compile_problems(compiled(optimizer=optimizer)(cifar())) == [], optimizer


def test_every_answer_of_the_refused_family_fails_a_visible_check():
    """The benchmark's 'refused' answers (tests/training_families.py) never reach the hidden training run
    unwarned: the visible build or compile check fails on each."""
    from training_families import GOOD, REFUSED

    for name, (build, compile_fn) in REFUSED.items():
        model = build()
        problems = mc.cifar_model_problems(model, (32, 32, 3), 10) + mc.compile_problems(compile_fn(model))
        assert any("graded training run" in p for p in problems), (name, problems)
    for name, (build, compile_fn) in GOOD.items():
        model = build()
        assert mc.cifar_model_problems(model, (32, 32, 3), 10) + mc.compile_problems(compile_fn(model)) == [], name
