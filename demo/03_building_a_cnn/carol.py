# Demo student "carol": the receptive field right (the unrolled formula), a good
# model, compiled with categorical_crossentropy although the labels are integers.

# %% build_lesson_model
def build_lesson_model():
    return keras.Sequential([
        keras.Input(shape=(28, 56, 3)),
        layers.Conv2D(8, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu"),
        layers.MaxPooling2D((3, 3)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])

# %% receptive_field
import math


def receptive_field(layers):
    """The unrolled formula: 1 + sum of (k - 1) * product of the earlier strides."""
    sizes = []
    for axis in (0, 1):
        kernels, strides = [], []
        for kind, kwargs in layers:
            if kind == "conv2d":
                kernels.append(to_pair(kwargs["kernel_size"])[axis])
                strides.append(to_pair(kwargs.get("strides", 1))[axis])
            else:
                kernels.append(to_pair(kwargs["pool_size"])[axis])
                strides.append(to_pair(kwargs.get("strides") or kwargs["pool_size"])[axis])
        sizes.append(1 + sum((k - 1) * math.prod(strides[:i]) for i, k in enumerate(kernels)))
    return tuple(sizes)

# %% build_cifar_model
def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])

# %% compile_model
def compile_model(model):
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
