# Demo student "alice": everything right (the receptive field with the recurrence);
# a compact CNN with global average pooling. Expected: full marks.

# %% build_lesson_model
def build_lesson_model():
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 56, 3)))
    model.add(layers.Conv2D(8, (3, 3), padding="same", activation="relu"))
    model.add(layers.Conv2D(5, (3, 2), strides=(2, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(3, 3)))
    model.add(layers.Flatten())
    model.add(layers.Dense(3, activation="softmax"))
    return model

# %% receptive_field
def receptive_field(layers):
    r, j = [1, 1], [1, 1]
    for kind, kwargs in layers:
        if kind == "conv2d":
            k, s = to_pair(kwargs["kernel_size"]), to_pair(kwargs.get("strides", 1))
        else:
            k = to_pair(kwargs["pool_size"])
            s = to_pair(kwargs["strides"]) if kwargs.get("strides") is not None else k
        for a in range(2):
            r[a] += (k[a] - 1) * j[a]
            j[a] *= s[a]
    return (r[0], r[1])

# %% build_cifar_model
def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(num_classes, activation="softmax"),
    ])

# %% compile_model
def compile_model(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model
