"""Judging Keras models that students build, compile and train (assignment 03).

Each ``*_problems`` function returns a list of plain-English problems (empty when all is right);
each ``*_result`` function turns them into a :class:`CheckResult`. Expected layers and parameter
counts come from Keras models built here (:mod:`.truth`). These run in the grading process on
models rebuilt from their JSON (:mod:`.model_verdicts`), and in the notebook's checks. The graded
training run (``check_training``) is in :mod:`.training`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..i18n import tr
from ..quiet import quiet_tensorflow, silenced_stderr
from . import truth
from .compare import CheckResult
from .stack_cases import LESSON_MODEL

LESSON_INPUT_SHAPE = (28, 56, 3)
MAX_CIFAR_PARAMS = 300_000
#: the fewest filters a Conv2D layer of build_cifar_model may have. With fewer, a model may learn too slowly
#: for the graded training run of :mod:`.training` (the issue's model with 4 filters per layer: 13.5%, against
#: a 40% bar; with Flatten and Dense(64) it still passes), so the exercise states this limit and the visible
#: check refuses fewer before the hidden test could (issue #25 item 2); every model at the limit the benchmark
#: tries passes (benchmarks/bench_training_check.py, docs/benchmarks.md)
MIN_CIFAR_FILTERS = 8
#: the optimizers the graded training run is measured with (benchmarks/bench_training_check.py): adaptive
#: steps, or SGD with at least MIN_SGD_MOMENTUM momentum. Plain SGD reaches 20-23% in the run's 3 epochs
#: (issue #25 item 2), so the exercise names these and the visible compile check refuses the others.
MEASURED_OPTIMIZERS = ("Adam", "AdamW", "Nadam", "RMSprop")
MIN_SGD_MOMENTUM = 0.9
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
        return tr(
            "the function should return a keras.Sequential model, but it returned {type}", type=type(model).__name__
        )
    if _input_shape(model) is None:
        return tr("the model has no input shape yet: start it with keras.Input(shape=...)")
    return None


def lesson_model_problems(model: Any) -> list[str]:
    """Differences between ``model`` and the lesson's model, layer by layer."""
    problem = _is_sequential(model)
    if problem:
        return [problem]
    problems = []
    if _input_shape(model) != (None, *LESSON_INPUT_SHAPE):
        problems.append(
            tr(
                "input: expected shape {expected}, got {got}",
                expected=(None, *LESSON_INPUT_SHAPE),
                got=_input_shape(model),
            )
        )
    expected = truth.build_sequential(LESSON_INPUT_SHAPE, LESSON_MODEL)
    got_layers, exp_layers = list(model.layers), list(expected.layers)
    if len(got_layers) != len(exp_layers):
        problems.append(
            tr(
                "expected {expected} layers ({expected_layers}), got {got} ({got_layers})",
                expected=len(exp_layers),
                expected_layers=", ".join(type(layer).__name__ for layer in exp_layers),
                got=len(got_layers),
                got_layers=", ".join(type(layer).__name__ for layer in got_layers),
            )
        )
    for i, (g, e) in enumerate(zip(got_layers, exp_layers), start=1):
        if type(g).__name__ != type(e).__name__:
            problems.append(
                tr(
                    "layer {number}: expected {expected}, got {got}",
                    number=i,
                    expected=type(e).__name__,
                    got=type(g).__name__,
                )
            )
            continue
        gc, ec = g.get_config(), e.get_config()
        for key in COMPARED:
            if key in ec and _norm(gc.get(key)) != _norm(ec[key]):
                problems.append(
                    tr(
                        "layer {number} ({kind}): expected {key} {expected}, got {got}",
                        number=i,
                        kind=type(e).__name__,
                        key=key,
                        expected=repr(_norm(ec[key])),
                        got=repr(_norm(gc.get(key))),
                    )
                )
    if not problems and model.count_params() != expected.count_params():
        problems.append(
            tr("expected {expected} parameters, got {got}", expected=expected.count_params(), got=model.count_params())
        )
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
            tr(
                "the input shape should be {expected} (from the input_shape argument), got {got}",
                expected=(None, *tuple(input_shape)),
                got=_input_shape(model),
            )
        )
    convs = _layers_of(model, "Conv2D")
    if len(convs) < 2:
        problems.append(tr("it needs at least two Conv2D layers"))
    few = sorted({int(c.get_config()["filters"]) for c in convs if int(c.get_config()["filters"]) < MIN_CIFAR_FILTERS})
    if few:
        problems.append(
            tr(
                "every Conv2D layer needs at least {minimum} filters (yours has a layer with {few}): with fewer, "
                "the model learns too slowly for the graded training run",
                minimum=MIN_CIFAR_FILTERS,
                few=few[0],
            )
        )
    if len(_layers_of(model, "MaxPooling2D", "AveragePooling2D")) < 2:
        problems.append(tr("it needs at least two pooling layers (MaxPooling2D or AveragePooling2D)"))
    if not _layers_of(model, "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        problems.append(tr("it needs Flatten (or global pooling) between the convolutional part and the Dense layers"))
    last = model.layers[-1] if model.layers else None
    if last is None or type(last).__name__ != "Dense":
        problems.append(
            tr('the last layer should be Dense(num_classes, activation="softmax"), got {got}', got=type(last).__name__)
        )
    else:
        config = last.get_config()
        if config["units"] != num_classes:
            problems.append(
                tr(
                    "the last Dense layer should have num_classes = {expected} units, got {got}",
                    expected=num_classes,
                    got=config["units"],
                )
            )
        if _norm(config.get("activation")) != "softmax":
            problems.append(
                tr(
                    'the last layer outputs logits (activation {activation}): add activation="softmax" so that it '
                    "outputs class probabilities",
                    activation=repr(_norm(config.get("activation"))),
                )
            )
    if max_params is not None and model.count_params() > max_params:
        problems.append(
            tr(
                "it has {count:,} parameters, more than the limit of {limit:,}: use fewer filters/units, or more "
                "pooling before Flatten",
                count=model.count_params(),
                limit=max_params,
            )
        )
    if not problems:
        x = np.random.default_rng(0).uniform(size=(2, *input_shape)).astype(np.float32)
        with silenced_stderr():
            y = np.asarray(model(x))
        if y.shape != (2, num_classes) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-4):
            problems.append(
                tr(
                    "on two random images the model returned shape {shape} whose rows do not sum to 1; expected "
                    "{expected} probabilities",
                    shape=y.shape,
                    expected=(2, num_classes),
                )
            )
    return problems


def _loss_name(model: Any) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _slow_optimizer(optimizer: Any) -> str | None:
    """Why ``optimizer`` would fail the graded training run (plain SGD, Adagrad...), or None when it is one
    of :data:`MEASURED_OPTIMIZERS` or SGD with at least :data:`MIN_SGD_MOMENTUM` momentum."""
    name = type(optimizer).__name__
    if name in MEASURED_OPTIMIZERS:
        return None
    momentum = float(getattr(optimizer, "momentum", 0.0) or 0.0) if name == "SGD" else 0.0
    if name == "SGD" and momentum >= MIN_SGD_MOMENTUM:
        return None
    what = tr("SGD with momentum {momentum:g}", momentum=momentum) if name == "SGD" else name
    return tr(
        'the optimizer ({what}) learns too slowly for the graded training run: use "adam" (or "rmsprop", '
        '"nadam", "adamw", or keras.optimizers.SGD(momentum=0.9))',
        what=what,
    )


def compile_problems(model: Any) -> list[str]:
    """Is ``model`` compiled for integer labels and softmax outputs, reporting accuracy?"""
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Model):
        return [tr("compile_model should return the compiled model, but it returned {type}", type=type(model).__name__)]
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        return [tr("the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")]
    slow = _slow_optimizer(model.optimizer)
    loss_name = _loss_name(model)
    hint = ""
    if "categorical_crossentropy" in str(loss_name) and "sparse" not in str(loss_name):
        hint = " " + tr(
            "The labels are integers (0..9), one per image; categorical_crossentropy expects one-hot "
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
        hint = hint or " " + tr('With integer labels and softmax outputs, use loss="sparse_categorical_crossentropy".')
        failed = tr(
            "evaluating the compiled model on integer labels failed ({error}).",
            error=f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}",
        )
        return [f"{failed}{hint}".rstrip(".")]
    problems = [slow] if slow else []
    if not any("acc" in k for k in results):
        problems.append(
            tr('it does not report accuracy (it reports {metrics}): add metrics=["accuracy"]', metrics=sorted(results))
        )
    expected = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probs)))
    got = float(results.get("loss", np.nan))
    if not np.isclose(got, expected, rtol=1e-3, atol=1e-4):
        extra = hint or " " + (
            tr(
                "If you wrote from_logits=True: this model ends in softmax, so its outputs are probabilities, "
                "not logits."
            )
            if "sparse" in str(loss_name)
            else tr('Use loss="sparse_categorical_crossentropy" for integer labels and softmax outputs.')
        )
        wrong = tr(
            "its loss on 16 images is {got:.4f}, but sparse categorical cross-entropy of its predictions is "
            "{expected:.4f}.",
            got=got,
            expected=expected,
        )
        problems.append(f"{wrong}{extra}".rstrip("."))
    return problems


def problems_result(name: str, problems: list[str], passed_text: str) -> CheckResult:
    if problems:
        return CheckResult(False, None, None, f"{name}: " + "; ".join(problems) + ".")
    return CheckResult(True, None, None, tr("PASSED {name}: {what}", name=name, what=passed_text))


def lesson_model_result(model: Any) -> CheckResult:
    """Verdict on the model ``build_lesson_model()`` returned."""
    problems = lesson_model_problems(model)
    return problems_result(
        "build_lesson_model", problems, tr("every layer matches the lesson's model (832 parameters).")
    )


def second_call_result(second: CheckResult) -> CheckResult:
    """Verdict of the ``fresh`` check from the verdict on the model a second call returned: every
    call must return the lesson's model (the grader judges what the calls return, not whether they
    are distinct Python objects, which it cannot see)."""
    if second.passed:
        return CheckResult(True, None, None, tr("PASSED build_lesson_model: every call returns the lesson's model."))
    return CheckResult(
        False,
        second.expected,
        second.got,
        tr(
            "The second call of build_lesson_model() did not return the lesson's model: {message}",
            message=second.message,
        ),
    )


def cifar_model_result(model: Any, input_shape: tuple[int, ...] = (32, 32, 3), num_classes: int = 10) -> CheckResult:
    """Verdict on ``build_cifar_model(input_shape, num_classes)``'s model. The parameter limit
    applies to the default CIFAR-10 configuration."""
    default = tuple(input_shape) == (32, 32, 3) and num_classes == 10
    problems = cifar_model_problems(model, tuple(input_shape), num_classes, MAX_CIFAR_PARAMS if default else None)
    return problems_result(
        f"build_cifar_model(input_shape={tuple(input_shape)}, num_classes={num_classes})",
        problems,
        tr("a valid classifier with {count:,} parameters.", count=getattr(model, "count_params", lambda: 0)()),
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
        tr("compiled for integer labels and softmax outputs, reporting accuracy."),
    )
