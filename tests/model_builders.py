"""Keras models and compile functions of assignment 03, right by default, with one mistake each when asked
(for tests/test_models.py, test_model_checks.py and test_training.py)."""

from __future__ import annotations

from grader_utils import quiet_tensorflow

keras = quiet_tensorflow()
L = keras.layers


def lesson(strides=(2, 3), last_activation="softmax", pool=L.MaxPooling2D, input_shape=(28, 56, 3)):
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            L.Conv2D(8, (3, 3), padding="same", activation="relu"),
            L.Conv2D(5, (3, 2), strides=strides, padding="valid", activation="relu"),
            pool((3, 3)),
            L.Flatten(),
            L.Dense(3, activation=last_activation),
        ]
    )


def cifar(input_shape=(32, 32, 3), num_classes=10, activation="softmax", filters=32, head=L.Flatten):
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            L.Conv2D(filters, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(2 * filters, 3, activation="relu"),
            L.MaxPooling2D(),
            head(),
            L.Dense(64, activation="relu"),
            L.Dense(num_classes, activation=activation),
        ]
    )


def compiled(loss="sparse_categorical_crossentropy", metrics=("accuracy",), optimizer="adam"):
    def compile_fn(model):
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
        return model

    return compile_fn
