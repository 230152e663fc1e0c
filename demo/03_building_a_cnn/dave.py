# Demo student "dave": a CIFAR model far over the parameter budget (wide Dense
# layer after little pooling), and the lesson model built with input_shape=
# instead of keras.Input (allowed, with a warning). Compiles without metrics, and
# leaves the pooling layers out of the receptive field.

# %% build_lesson_model
def build_lesson_model():
    return keras.Sequential([
        layers.Conv2D(8, (3, 3), padding="same", activation="relu", input_shape=(28, 56, 3)),
        layers.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu"),
        layers.MaxPooling2D((3, 3)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])

# %% receptive_field
def receptive_field(layers):
    # only the convolutions: pooling layers are left out (their windows and strides)
    r, j = [1, 1], [1, 1]
    for kind, kwargs in layers:
        if kind != "conv2d":
            continue
        k, s = to_pair(kwargs["kernel_size"]), to_pair(kwargs.get("strides", 1))
        for a in range(2):
            r[a] += (k[a] - 1) * j[a]
            j[a] *= s[a]
    return (r[0], r[1])

# %% build_cifar_model
def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])

# %% compile_model
def compile_model(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
