# Demo student "bob": forgets the strides of the lesson's second layer, ignores
# strides in the receptive field too (a sum of k - 1), and ends his CIFAR model
# with logits (no softmax). His compile_model is right.

# %% build_lesson_model
def build_lesson_model():
    return keras.Sequential([
        keras.Input(shape=(28, 56, 3)),
        layers.Conv2D(8, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(5, (3, 2), padding="valid", activation="relu"),
        layers.MaxPooling2D((3, 3)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])

# %% receptive_field
def receptive_field(layers):
    # adds up (k - 1) per layer: forgets that strides spread the later windows out
    r = [1, 1]
    for kind, kwargs in layers:
        k = to_pair(kwargs["kernel_size"] if kind == "conv2d" else kwargs["pool_size"])
        r[0] += k[0] - 1
        r[1] += k[1] - 1
    return (r[0], r[1])

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
        layers.Dense(num_classes),
    ])

# %% compile_model
def compile_model(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
