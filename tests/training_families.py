"""Two families of students' answers to exercises 2 and 3 of 03 for the graded training check.

``GOOD``: models that follow the exercise (at least two Conv2D and two pooling layers, Flatten or
global pooling, ``Dense(num_classes, softmax)``, at most 300,000 parameters) compiled as the exercise
says (Adam, sparse categorical cross-entropy): the check must pass every one. ``BROKEN``: the
mistakes the check exists to catch (no softmax, a loss for one-hot labels, a learning rate far too
large or too small, frozen layers): it must fail every one.

Each entry is ``name -> (build_cifar_model, compile_model)``, two functions with the students'
signatures, used by ``tests/test_training.py`` and ``benchmarks/bench_training_check.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader_utils import quiet_tensorflow

Build = Callable[..., Any]
Compile = Callable[[Any], Any]


def _sequential(
    *blocks: Callable[[Any], list[Any]],
    head: str = "flatten",
    dense: int | None = 64,
    last_activation: str | None = "softmax",
    trainable: bool = True,
) -> Build:
    """A builder: ``blocks`` give the layers after the input; then the head, Dense(dense), output."""

    def build_cifar_model(input_shape=(32, 32, 3), num_classes=10):
        keras = quiet_tensorflow()
        L = keras.layers
        layers = [keras.Input(shape=input_shape)]
        for block in blocks:
            layers += block(L)
        layers.append({"flatten": L.Flatten, "gap": L.GlobalAveragePooling2D, "gmp": L.GlobalMaxPooling2D}[head]())
        if dense:
            layers.append(L.Dense(dense, activation="relu"))
        layers.append(L.Dense(num_classes, activation=last_activation))
        model = keras.Sequential(layers)
        if not trainable:
            for layer in model.layers:
                layer.trainable = False
        return model

    return build_cifar_model


def conv(filters: int, pool: str | None = "max", padding: str = "valid") -> Callable[[Any], list[Any]]:
    def block(L: Any) -> list[Any]:
        out = [L.Conv2D(filters, (3, 3), padding=padding, activation="relu")]
        if pool:
            out.append({"max": L.MaxPooling2D, "avg": L.AveragePooling2D}[pool]((2, 2)))
        return out

    return block


def compiler(
    optimizer: str = "adam",
    learning_rate: float | None = None,
    loss: str = "sparse_categorical_crossentropy",
    momentum: float | None = None,
) -> Compile:
    def compile_model(model):
        keras = quiet_tensorflow()
        opt: Any = optimizer
        if momentum is not None:
            opt = keras.optimizers.SGD(momentum=momentum)
        if learning_rate is not None:
            opt = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[
                optimizer
            ](learning_rate=learning_rate)
        model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        return model

    return compile_model


ADAM = compiler()
TUTORIAL = (conv(32), conv(64), conv(64, pool=None))

GOOD: dict[str, tuple[Build, Compile]] = {
    # the TensorFlow tutorial's model (the notebook's solution), 122,570 parameters
    "tutorial-flatten": (_sequential(*TUTORIAL), ADAM),
    # the model: three Conv2D, two MaxPooling2D, GlobalAveragePooling2D, Dense(64), 61,130 parameters
    "tutorial-gap": (_sequential(*TUTORIAL, head="gap"), ADAM),
    "tutorial-gmp": (_sequential(*TUTORIAL, head="gmp"), ADAM),
    "two-blocks-flatten": (_sequential(conv(32), conv(64)), ADAM),
    "two-blocks-gap": (_sequential(conv(32), conv(64), head="gap"), ADAM),
    "avg-pool-flatten": (_sequential(conv(32, "avg"), conv(64, "avg"), conv(64, pool=None)), ADAM),
    "avg-pool-gap": (_sequential(conv(32, "avg"), conv(64, "avg"), conv(64, pool=None), head="gap"), ADAM),
    "narrow-flatten": (_sequential(conv(8), conv(16), dense=32), ADAM),
    "narrow-gap": (_sequential(conv(8), conv(16), conv(16, pool=None), head="gap", dense=32), ADAM),
    "wide-same-flatten": (_sequential(conv(64, padding="same"), conv(64, padding="same"), dense=32), ADAM),
    "wide-gap": (_sequential(conv(64), conv(128), conv(128, pool=None), head="gap", dense=128), ADAM),
    "no-hidden-dense-gap": (_sequential(*TUTORIAL, head="gap", dense=None), ADAM),
    # at the limits the exercise states (issue #25 item 2): 8 filters in every Conv2D, each optimizer it names
    "eight-filters-flatten": (_sequential(conv(8), conv(8)), ADAM),
    "eight-filters-gap": (_sequential(conv(8), conv(8), conv(8, pool=None), head="gap", dense=None), ADAM),
    "rmsprop": (_sequential(*TUTORIAL), compiler("rmsprop")),
    "nadam": (_sequential(*TUTORIAL), compiler("nadam")),
    "adamw": (_sequential(*TUTORIAL), compiler("adamw")),
    "sgd-momentum": (_sequential(*TUTORIAL), compiler(momentum=0.9)),
    "eight-filters-sgd-momentum": (_sequential(conv(8), conv(8)), compiler(momentum=0.9)),
}

BROKEN: dict[str, tuple[Build, Compile]] = {
    "no-softmax": (_sequential(*TUTORIAL, last_activation=None), ADAM),
    "no-softmax-gap": (_sequential(*TUTORIAL, head="gap", last_activation=None), ADAM),
    "one-hot-loss": (_sequential(*TUTORIAL), compiler(loss="categorical_crossentropy")),
    "learning-rate-10": (_sequential(*TUTORIAL), compiler(learning_rate=10.0)),
    "learning-rate-1e-7": (_sequential(*TUTORIAL), compiler(learning_rate=1e-7)),
    "frozen": (_sequential(*TUTORIAL, trainable=False), ADAM),
}


#: answers the exercise's text and its visible checks refuse (issue #25 item 2: fewer than 8 filters in a Conv2D
#: layer, an optimizer that learns too slowly): the benchmark shows they would fail the training run too
REFUSED: dict[str, tuple[Build, Compile]] = {
    "plain-sgd": (_sequential(*TUTORIAL), compiler("sgd")),
    "four-filters": (_sequential(conv(4), conv(4)), ADAM),
    "four-filters-gap": (_sequential(conv(4), conv(4), conv(4, pool=None), head="gap", dense=None), ADAM),
}


def graded_verdict(build: Build, compile_fn: Compile, seed: int = 0):
    """The verdict of the graded training check on this answer, as the trusted engine reaches it:
    the model and its compile settings cross as JSON (:func:`sandbox_call`, here in this
    process), are rebuilt and compiled from them, and trained and judged by ``check_training``'s verdict."""
    from grader_utils.judge.registry import EXERCISES
    from grader_utils.sandbox.model_call import sandbox_call

    ns = {"build_cifar_model": build, "compile_model": compile_fn}
    plan = EXERCISES["check_training"].plan
    assert plan is not None
    ((call, verdict),) = plan(["build_cifar_model", "compile_model"], {"seed": seed})
    try:
        value = sandbox_call(call, ns)
    except Exception as exc:  # in the sandbox this becomes a crash: no points
        from grader_utils.judge.compare import CheckResult

        return CheckResult(False, None, None, f"crashed in the student's process: {type(exc).__name__}: {exc}")
    return verdict(value)
