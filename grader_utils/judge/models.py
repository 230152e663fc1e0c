"""Judging Keras models that students build, compile and train (assignment 03).

Each ``*_problems`` function returns a list of plain-English problems (empty when all is right);
each ``*_result`` function turns them into a :class:`CheckResult`. Expected layers and parameter
counts come from Keras models built here (:mod:`.truth`). These run in the grading process on
models rebuilt from their JSON (:mod:`.model_verdicts`), and in the notebook's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..datasets import make_synthetic
from ..quiet import quiet_tensorflow, silenced_stderr
from . import truth
from .compare import CheckResult
from .stack_cases import LESSON_MODEL

LESSON_INPUT_SHAPE = (28, 56, 3)
MAX_CIFAR_PARAMS = 300_000
#: The graded training run: TRAINING_N_TRAIN synthetic images with shapes at least TRAINING_CONTRAST
#: brighter or darker than their background (a task every model the exercise allows learns in this
#: budget, global pooling included), TRAINING_EPOCHS epochs of batches of TRAINING_BATCH, tested on
#: TRAINING_N_TEST more. It must reach TRAINING_THRESHOLD test accuracy (chance: 10%), with outputs that
#: are probabilities. The bar sits between the two families of benchmarks/bench_training_check.py
#: (spec-following models and broken ones; margins in the README, tests/test_training_check.py).
TRAINING_THRESHOLD = 0.40
TRAINING_CONTRAST = 0.5
TRAINING_N_TRAIN = 4000
TRAINING_N_TEST = 1000
TRAINING_EPOCHS = 3
TRAINING_BATCH = 32
COMPARED = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "activation",
    "pool_size",
    "units",
    "use_bias",
    "dilation_rate",
    "target_shape",
)


def _norm(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict) and "class_name" in value:  # a serialized activation object
        return value.get("config", {}).get("name", value["class_name"])
    return value


def _input_shape(model: Any) -> tuple | None:
    try:
        return tuple(model.inputs[0].shape)
    except Exception:
        return None


def _is_sequential(model: Any) -> str | None:
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Sequential):
        return f"the function should return a keras.Sequential model, but it returned {type(model).__name__}"
    if _input_shape(model) is None:
        return "the model has no input shape yet: start it with keras.Input(shape=...)"
    return None


def lesson_model_problems(model: Any) -> list[str]:
    """Differences between ``model`` and the lesson's model, layer by layer."""
    problem = _is_sequential(model)
    if problem:
        return [problem]
    problems = []
    if _input_shape(model) != (None, *LESSON_INPUT_SHAPE):
        problems.append(f"input: expected shape {(None, *LESSON_INPUT_SHAPE)}, got {_input_shape(model)}")
    expected = truth.build_sequential(LESSON_INPUT_SHAPE, LESSON_MODEL)
    got_layers, exp_layers = list(model.layers), list(expected.layers)
    if len(got_layers) != len(exp_layers):
        problems.append(
            f"expected {len(exp_layers)} layers "
            f"({', '.join(type(layer).__name__ for layer in exp_layers)}), got {len(got_layers)} "
            f"({', '.join(type(layer).__name__ for layer in got_layers)})"
        )
    for i, (g, e) in enumerate(zip(got_layers, exp_layers), start=1):
        if type(g).__name__ != type(e).__name__:
            problems.append(f"layer {i}: expected {type(e).__name__}, got {type(g).__name__}")
            continue
        gc, ec = g.get_config(), e.get_config()
        for key in COMPARED:
            if key in ec and _norm(gc.get(key)) != _norm(ec[key]):
                problems.append(
                    f"layer {i} ({type(e).__name__}): expected {key} {_norm(ec[key])!r}, got {_norm(gc.get(key))!r}"
                )
    if not problems and model.count_params() != expected.count_params():
        problems.append(f"expected {expected.count_params()} parameters, got {model.count_params()}")
    return problems


def _layers_of(model: Any, *names: str) -> list[Any]:
    return [layer for layer in model.layers if type(layer).__name__ in names]


def cifar_model_problems(
    model: Any, input_shape: tuple[int, ...], num_classes: int, max_params: int | None = MAX_CIFAR_PARAMS
) -> list[str]:
    """What is wrong with a CIFAR-style classifier for ``input_shape`` and ``num_classes``."""
    problem = _is_sequential(model)
    if problem:
        return [problem]
    problems = []
    if _input_shape(model) != (None, *input_shape):
        problems.append(
            f"the input shape should be {(None, *tuple(input_shape))} (from the input_shape argument), "
            f"got {_input_shape(model)}"
        )
    if len(_layers_of(model, "Conv2D")) < 2:
        problems.append("it needs at least two Conv2D layers")
    if len(_layers_of(model, "MaxPooling2D", "AveragePooling2D")) < 2:
        problems.append("it needs at least two pooling layers (MaxPooling2D or AveragePooling2D)")
    if not _layers_of(model, "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        problems.append("it needs Flatten (or global pooling) between the convolutional part and the Dense layers")
    last = model.layers[-1] if model.layers else None
    if last is None or type(last).__name__ != "Dense":
        problems.append(f'the last layer should be Dense(num_classes, activation="softmax"), got {type(last).__name__}')
    else:
        config = last.get_config()
        if config["units"] != num_classes:
            problems.append(
                f"the last Dense layer should have num_classes = {num_classes} units, got {config['units']}"
            )
        if _norm(config.get("activation")) != "softmax":
            problems.append(
                f"the last layer outputs logits (activation {_norm(config.get('activation'))!r}): "
                f'add activation="softmax" so that it outputs class probabilities'
            )
    if max_params is not None and model.count_params() > max_params:
        problems.append(
            f"it has {model.count_params():,} parameters, more than the limit of {max_params:,}: "
            f"use fewer filters/units, or more pooling before Flatten"
        )
    if not problems:
        x = np.random.default_rng(0).uniform(size=(2, *input_shape)).astype(np.float32)
        with silenced_stderr():
            y = np.asarray(model(x))
        if y.shape != (2, num_classes) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-4):
            problems.append(
                f"on two random images the model returned shape {y.shape} whose rows do not sum "
                f"to 1; expected ({2}, {num_classes}) probabilities"
            )
    return problems


def _loss_name(model: Any) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def compile_problems(model: Any) -> list[str]:
    """Is ``model`` compiled for integer labels and softmax outputs, reporting accuracy?"""
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Model):
        return [f"compile_model should return the compiled model, but it returned {type(model).__name__}"]
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        return ["the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])"]
    loss_name = _loss_name(model)
    hint = ""
    if "categorical_crossentropy" in str(loss_name) and "sparse" not in str(loss_name):
        hint = (
            " The labels are integers (0..9), one per image; categorical_crossentropy expects one-hot "
            'vectors. Use loss="sparse_categorical_crossentropy"'
        )
    n_classes = int(model.outputs[0].shape[-1])
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(16, *model.inputs[0].shape[1:])).astype(np.float32)
    y = rng.integers(0, n_classes, size=16)
    try:
        with silenced_stderr():
            results = model.evaluate(x, y, verbose=0, return_dict=True)
            probs = np.asarray(model.predict(x, verbose=0))
    except Exception as exc:
        hint = hint or (' With integer labels and softmax outputs, use loss="sparse_categorical_crossentropy".')
        return [
            f"evaluating the compiled model on integer labels failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}).{hint}".rstrip(".")
        ]
    problems = []
    if not any("acc" in k for k in results):
        problems.append(f'it does not report accuracy (it reports {sorted(results)}): add metrics=["accuracy"]')
    expected = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probs)))
    got = float(results.get("loss", np.nan))
    if not np.isclose(got, expected, rtol=1e-3, atol=1e-4):
        extra = hint or (
            " If you wrote from_logits=True: this model ends in softmax, so its outputs are probabilities, not logits."
            if "sparse" in str(loss_name)
            else ' Use loss="sparse_categorical_crossentropy" for integer labels and softmax outputs.'
        )
        problems.append(
            f"its loss on 16 images is {got:.4f}, but sparse categorical cross-entropy of its "
            f"predictions is {expected:.4f}.{extra}".rstrip(".")
        )
    return problems


@dataclass
class TrainingRun:
    """What the graded training run measured (all computed here, from the model's predictions)."""

    accuracy: float  # test accuracy of the argmax of the outputs
    untrained_accuracy: float  # the same before training
    loss_before: float  # mean training loss before training (the compiled loss, on the first batches)
    loss_after: float  # mean training loss of the last epoch (Keras' history)
    probabilities: bool  # every output row is finite, non-negative and sums to 1
    finite: bool  # every output is finite
    trainable_weights: int  # number of trainable weight tensors


def training_run(
    build: Callable[..., Any],
    compile_fn: Callable[[Any], Any],
    seed: int = 0,
    epochs: int = TRAINING_EPOCHS,
    n_train: int = TRAINING_N_TRAIN,
    n_test: int = TRAINING_N_TEST,
    batch_size: int = TRAINING_BATCH,
    contrast: float | None = TRAINING_CONTRAST,
) -> TrainingRun:
    """Build with ``build(input_shape=(32, 32, 3), num_classes=10)``, compile with ``compile_fn``,
    train on the synthetic data for a fixed budget and measure the result."""
    keras = quiet_tensorflow()
    data = make_synthetic(n_train=n_train, n_test=n_test, seed=seed, contrast=contrast)
    x_train = data.x_train.astype(np.float32) / 255.0
    x_test = data.x_test.astype(np.float32) / 255.0
    keras.utils.set_random_seed(seed)
    model = compile_fn(build(input_shape=(32, 32, 3), num_classes=10))
    with silenced_stderr():
        untrained = np.asarray(model.predict(x_test, verbose=0))
        head = slice(0, min(len(x_train), 8 * batch_size))
        loss_before = float(
            model.evaluate(x_train[head], data.y_train[head], batch_size=batch_size, verbose=0, return_dict=True)[
                "loss"
            ]
        )
        history = model.fit(x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=0)
        predictions = np.asarray(model.predict(x_test, verbose=0))
    finite = bool(np.all(np.isfinite(predictions)))
    probabilities = (
        finite
        and predictions.ndim == 2
        and bool(np.all(predictions >= -1e-6))
        and bool(np.allclose(predictions.sum(axis=1), 1.0, atol=1e-3))
    )
    return TrainingRun(
        accuracy=float(np.mean(predictions.argmax(axis=1) == data.y_test)),
        untrained_accuracy=float(np.mean(untrained.argmax(axis=1) == data.y_test)),
        loss_before=loss_before,
        loss_after=float(history.history["loss"][-1]),
        probabilities=probabilities,
        finite=finite,
        trainable_weights=len(model.trainable_weights),
    )


def train_and_score(build: Callable[..., Any], compile_fn: Callable[[Any], Any], seed: int = 0, **budget: Any) -> float:
    """The test accuracy of :func:`training_run`."""
    return training_run(build, compile_fn, seed=seed, **budget).accuracy


def problems_result(name: str, problems: list[str], passed_text: str) -> CheckResult:
    if problems:
        return CheckResult(False, None, None, f"{name}: " + "; ".join(problems) + ".")
    return CheckResult(True, None, None, f"PASSED {name}: {passed_text}")


def lesson_model_result(model: Any) -> CheckResult:
    """Verdict on the model ``build_lesson_model()`` returned."""
    problems = lesson_model_problems(model)
    return problems_result("build_lesson_model", problems, "every layer matches the lesson's model (832 parameters).")


def second_call_result(second: CheckResult) -> CheckResult:
    """Verdict of the ``fresh`` check from the verdict on the model a second call returned: every
    call must return the lesson's model (the grader judges what the calls return, not whether they
    are distinct Python objects, which it cannot see)."""
    if second.passed:
        return CheckResult(True, None, None, "PASSED build_lesson_model: every call returns the lesson's model.")
    return CheckResult(
        False,
        second.expected,
        second.got,
        "The second call of build_lesson_model() did not return the lesson's model: " + second.message,
    )


def cifar_model_result(model: Any, input_shape: tuple[int, ...] = (32, 32, 3), num_classes: int = 10) -> CheckResult:
    """Verdict on ``build_cifar_model(input_shape, num_classes)``'s model. The parameter limit
    applies to the default CIFAR-10 configuration."""
    default = tuple(input_shape) == (32, 32, 3) and num_classes == 10
    problems = cifar_model_problems(model, tuple(input_shape), num_classes, MAX_CIFAR_PARAMS if default else None)
    return problems_result(
        f"build_cifar_model(input_shape={tuple(input_shape)}, num_classes={num_classes})",
        problems,
        f"a valid classifier with {getattr(model, 'count_params', lambda: 0)():,} parameters.",
    )


def reference_compile_model() -> Any:
    """The small CIFAR-style model that ``check_compile_model`` compiles when no ``build`` is given."""
    keras = quiet_tensorflow()
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            L.Conv2D(8, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(8, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )


def compile_result(compiled: Any) -> CheckResult:
    """Verdict on what ``compile_model(model)`` returned."""
    return problems_result(
        "compile_model",
        compile_problems(compiled),
        "compiled for integer labels and softmax outputs, reporting accuracy.",
    )


def _training_problem(run: TrainingRun) -> str | None:
    """Why ``run`` fails the graded training check, with the likely cause, or None."""
    budget = (
        f"after {TRAINING_EPOCHS} epochs on {TRAINING_N_TRAIN:,} synthetic images the model reaches "
        f"{run.accuracy:.1%} test accuracy (untrained: {run.untrained_accuracy:.1%}; chance: 10%)"
    )
    if not run.finite:
        return (
            f"{budget}, and its outputs are no longer numbers (NaN or infinity): training diverged. "
            f"The usual cause is a learning rate far too large (Adam's default, 0.001, works)"
        )
    if not run.probabilities:
        return (
            f"{budget}, and its outputs are not probabilities (they are not all >= 0 with rows that add "
            f'up to 1): the last layer needs activation="softmax" for this loss'
        )
    if run.accuracy >= TRAINING_THRESHOLD:
        return None
    tolerance = 0.02 * max(abs(run.loss_before), 1e-6)
    change = f"({run.loss_before:.3f} before training, {run.loss_after:.3f} in the last epoch)"
    if run.trainable_weights == 0:
        cause = "the model has no trainable weights (trainable=False), so training cannot change it"
    elif not np.isfinite(run.loss_after) or run.loss_after > run.loss_before + tolerance:
        cause = (
            f"the training loss went up {change}: the usual cause is a learning rate far too large "
            f"(Adam's default, 0.001, works)"
        )
    elif run.loss_after >= run.loss_before - tolerance:
        cause = (
            f"the training loss hardly changed {change}: check that the layers are trainable and that the "
            f"learning rate is not far too small (Adam's default, 0.001, works)"
        )
    else:
        cause = (
            f"the training loss went down {change}, but too slowly: check the learning rate (Adam's "
            f"default, 0.001, works) and that the model is not too small to learn (a few filters per "
            f"Conv2D layer are too few)"
        )
    return f"{budget}; at least {TRAINING_THRESHOLD:.0%} is needed. {cause}"


def training_result(build: Callable[..., Any], compile_fn: Callable[[Any], Any], seed: int = 0) -> CheckResult:
    """Graded training: the student's model and compile settings, trained on the synthetic data
    (see TRAINING_*), must reach TRAINING_THRESHOLD test accuracy with outputs that are probabilities."""
    try:
        run = training_run(build, compile_fn, seed=seed)
    except NotImplementedError:
        raise NotImplementedError(
            "build_cifar_model or compile_model is not implemented yet: write both before the graded training run."
        ) from None
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0][:200]
        return CheckResult(
            False,
            None,
            None,
            f"check_training: training the model from build_cifar_model, compiled by compile_model, "
            f"failed ({type(exc).__name__}: {first_line}). The exercises above show what to fix; "
            f"with integer labels the loss must be sparse_categorical_crossentropy.",
        )
    problem = _training_problem(run)
    if problem:
        return CheckResult(False, TRAINING_THRESHOLD, run.accuracy, f"check_training: {problem}.")
    return CheckResult(
        True,
        TRAINING_THRESHOLD,
        run.accuracy,
        f"PASSED check_training: {run.accuracy:.1%} test accuracy on the synthetic data after "
        f"{TRAINING_EPOCHS} epochs (needed: {TRAINING_THRESHOLD:.0%}, chance: 10%).",
    )
