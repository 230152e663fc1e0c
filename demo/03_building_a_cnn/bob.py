# Demo student "bob": forgets the strides of the lesson's second layer, and ends
# his CIFAR model with logits (no softmax). His compile_model is right.

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
