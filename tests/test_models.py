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
