"""Trusted grading of assignment 03 (Keras models): models cross the sandbox as plain data.

In the sandbox (:func:`grader_utils.sandbox.model_call.sandbox_call`) the student's function builds or
compiles a model; what comes back is the model's architecture as Keras JSON
(``model.to_json()``) and its compile settings (``model.get_compile_config()``) as JSON text,
never a live object. In the grading process (:func:`plan`) the model is rebuilt with
``keras.models.model_from_json`` (Keras' safe mode: no ``Lambda`` code, no unknown classes),
compiled with ``compile_from_config`` (both configurations walked in full by :mod:`.model_bounds` first,
the work they imply bounded before Keras builds anything) and judged by the same functions as the test cells
(:mod:`.models`), training included: the graded training run happens here, on the rebuilt
model, so nothing the student's process does can change its result.

A check call in a test cell such as ``check_build_cifar_model(build_cifar_model,
input_shape=(28, 28, 1), num_classes=10)`` becomes one sandbox call
``{"func": "build_cifar_model", "kwargs": {...}, "keras": "model"}`` and one verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..i18n import N_, tr
from ..quiet import quiet_tensorflow, silenced_stderr
from .compare import CheckResult
from .model_bounds import compile_problem, model_problem
from .models import (
    cifar_model_result,
    compile_result,
    lesson_model_result,
    problems_result,
    reference_compile_model,
    second_call_result,
)
from .training import training_result

__all__ = ["Planner", "plan_lesson", "plan_cifar", "plan_compile", "plan_training", "rebuild", "model_size_problem"]

#: a model exercise's planner: (the student's function names in the check call, its keyword arguments)
#: -> [(one sandbox call as plain data, the verdict on what that call returns)]
Planner = Callable[[list[str], dict], list[tuple[dict, Callable[[Any], CheckResult]]]]


#: the largest model the grading process rebuilds: weights (float32 values) and the values of all
#: layers' outputs for one image; anything larger is refused from its JSON, before Keras builds it
MAX_MODEL_PARAMS = 20_000_000
MAX_MODEL_ACTIVATIONS = 4_000_000
MAX_MODEL_JSON = 2_000_000
#: layers without weights that the grading process rebuilds
_WEIGHTLESS = {
    "InputLayer",
    "Flatten",
    "Reshape",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Rescaling",
    "Resizing",
    "CenterCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomCrop",
    "RandomBrightness",
    "Permute",
    "RepeatVector",
    "ActivityRegularization",
    "Identity",
    "UnitNormalization",
}


#: layers with weights whose number the grading process computes from their configuration
_WEIGHTED = {
    "Dense",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "SeparableConv1D",
    "SeparableConv2D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Embedding",
    "PReLU",
}


def _weights(layer: Any, in_shape: tuple, out_shape: tuple) -> int | None:
    """Weights of a layer with weights, from its configuration and shapes (None: not a layer the
    grading process knows how to count)."""
    import math

    name = type(layer).__name__
    c = layer.get_config()
    last_in, last_out = int(in_shape[-1] or 0), int(out_shape[-1] or 0)
    bias = last_out if c.get("use_bias", True) else 0
    if name == "Dense":
        return last_in * last_out + bias
    if name.startswith("Conv"):
        groups = int(c.get("groups", 1) or 1)
        return math.prod(c["kernel_size"]) * (last_in // groups) * last_out + bias
    if name.startswith("SeparableConv"):
        depth = math.prod(c["kernel_size"]) * last_in * int(c.get("depth_multiplier", 1))
        return depth + int(c.get("depth_multiplier", 1)) * last_in * last_out + bias
    if name.startswith("DepthwiseConv"):
        return math.prod(c["kernel_size"]) * last_in * int(c.get("depth_multiplier", 1)) + bias
    if name in ("BatchNormalization", "LayerNormalization", "GroupNormalization"):
        return 4 * last_in
    if name == "Embedding":
        return int(c["input_dim"]) * int(c["output_dim"])
    if name == "PReLU":
        return math.prod(int(d or 1) for d in in_shape[1:])
    return None


_BUILT_IN = N_("(use Keras' convolution, pooling and Dense layers)")


def model_size_problem(model_json: str) -> str | None:
    """Why the model described by ``model_json`` is too large (or too unusual) to rebuild in the
    grading process, or None. Reads the configuration only: no weights are made."""
    import math

    keras = quiet_tensorflow()
    if not isinstance(model_json, str) or len(model_json) > MAX_MODEL_JSON:
        return tr("the model's description is not valid or is too long")
    try:
        config = json.loads(model_json)
        if config.get("class_name") != "Sequential":
            return tr(
                "the grader rebuilds keras.Sequential models only, and this is a {kind}",
                kind=str(config.get("class_name"))[:40],
            )
        problem = model_problem(config)  # the whole configuration, nested objects and compile settings too
        if problem:
            return problem
        layers = config["config"]["layers"]
        shape: tuple | None = tuple(config["config"].get("build_input_shape") or ()) or None
        first = layers[0] if layers and layers[0].get("class_name") == "InputLayer" else None
        if first is not None:
            shape = tuple(first["config"].get("batch_shape") or first["config"].get("batch_input_shape"))
        for stated in (
            config["config"].get("build_input_shape"),
            (config.get("build_config") or {}).get("input_shape"),
        ):
            if stated is not None and shape is not None and tuple(stated) != shape:
                return tr(
                    "its description builds the model for input shape {stated}, not {shape}",
                    stated=str(tuple(stated))[:80],
                    shape=str(shape)[:80],
                )
        params = activations = 0
        with silenced_stderr():
            for entry in layers:
                name = str(entry.get("class_name"))
                if name == "InputLayer":
                    shape = tuple(entry["config"].get("batch_shape") or entry["config"].get("batch_input_shape"))
                    continue
                if name not in _WEIGHTLESS and name not in _WEIGHTED:
                    return tr(
                        "the grader does not rebuild {kind} layers {advice}", kind=name[:40], advice=tr(_BUILT_IN)
                    )
                # without its build_config a layer is made, not built: no weights are allocated
                layer = keras.layers.deserialize({k: v for k, v in entry.items() if k != "build_config"})
                if shape is None:
                    return tr("the model has no input shape (start it with keras.Input(shape=...))")
                built = (entry.get("build_config") or {}).get("input_shape")
                if built is not None and tuple(built) != tuple(shape):
                    # Keras builds a layer for the shape its build_config names: weights counted for
                    # another shape than the one built would be a lie
                    return tr(
                        "its description builds layer {kind} for input shape {stated}, but it receives {shape}",
                        kind=name[:40],
                        stated=str(tuple(built))[:80],
                        shape=str(tuple(shape))[:80],
                    )
                out = tuple(layer.compute_output_shape(shape))
                if name not in _WEIGHTLESS:
                    count = _weights(layer, shape, out)
                    if count is None:
                        return tr("the grader does not rebuild {kind} layers {advice}", kind=name, advice=tr(_BUILT_IN))
                    params += count
                activations += math.prod(int(d or 1) for d in out[1:])
                if params > MAX_MODEL_PARAMS or activations > MAX_MODEL_ACTIVATIONS:
                    return tr(
                        "it is far too large to train here ({params:,} weights, {activations:,} output values per "
                        "image by layer {layers}; the grader stops at {max_params:,} and {max_activations:,})",
                        params=params,
                        activations=activations,
                        layers=len(layers),
                        max_params=MAX_MODEL_PARAMS,
                        max_activations=MAX_MODEL_ACTIVATIONS,
                    )
                shape = out
    except Exception as exc:  # noqa: BLE001  (malformed configuration)
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        return tr("its description could not be read ({error})", error=f"{type(exc).__name__}: {first}")
    return None


def rebuild(model_json: str) -> Any:
    """A Keras model from its JSON architecture, in safe mode (no arbitrary code), once
    :func:`model_size_problem` has found it small enough to build (ValueError otherwise)."""
    keras = quiet_tensorflow()
    problem = model_size_problem(model_json)
    if problem:
        raise ValueError(problem)
    with silenced_stderr():
        return keras.models.model_from_json(model_json)


def _rebuilt(value: Any, name: str) -> tuple[Any, CheckResult | None]:
    if not isinstance(value, dict) or not isinstance(value.get("model_json"), str):
        return None, CheckResult(False, None, None, tr("{name} did not return a Keras model.", name=name))
    try:
        return rebuild(value["model_json"]), None
    except Exception as exc:  # unknown layer classes, Lambda layers, malformed JSON
        return None, CheckResult(
            False,
            None,
            None,
            tr(
                "{name}: the grader could not rebuild your model from its description ({error}). Use Keras' "
                "built-in layers only (no Lambda or custom layers).",
                name=name,
                error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            ),
        )


def _compiled(value: Any) -> tuple[Any, CheckResult | None]:
    model, failure = _rebuilt(value, "compile_model")
    if failure is not None:
        return None, failure
    if value.get("compile_config") is None:
        return None, problems_result(
            "compile_model",
            [
                tr(
                    "compile_model should return the compiled model, but it returned {type}",
                    type=str(value.get("returned"))[:60],
                )
            ],
            "",
        )
    try:
        text = value["compile_config"]
        if not isinstance(text, str) or len(text) > MAX_MODEL_JSON:
            raise ValueError(tr("its compile settings are not valid or are too long"))
        config = json.loads(text)
        problem = compile_problem(config)  # metrics' state, numbers and objects bounded before Keras sees them
        if problem:
            raise ValueError(problem)
        with silenced_stderr():
            model.compile_from_config(config)
    except Exception as exc:
        return None, problems_result(
            "compile_model",
            [
                tr(
                    "its compile settings could not be restored ({error})",
                    error=f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}",
                )
            ],
            "",
        )
    return model, None


def _verdict_lesson(kwargs: dict) -> Callable[[Any], CheckResult]:
    def verdict(value: Any) -> CheckResult:
        model, failure = _rebuilt(value, "build_lesson_model")
        if failure is not None:
            return failure
        result = lesson_model_result(model)
        if kwargs.get("fresh") and result.passed:
            second, failure = _rebuilt({"model_json": value.get("second_json")}, "build_lesson_model")
            return failure if failure is not None else second_call_result(lesson_model_result(second))
        return result

    return verdict


def _verdict_cifar(kwargs: dict) -> Callable[[Any], CheckResult]:
    def verdict(value: Any) -> CheckResult:
        model, failure = _rebuilt(value, "build_cifar_model")
        if failure is not None:
            return failure
        return cifar_model_result(
            model, tuple(kwargs.get("input_shape", (32, 32, 3))), int(kwargs.get("num_classes", 10))
        )

    return verdict


def _verdict_compile(kwargs: dict) -> Callable[[Any], CheckResult]:
    def verdict(value: Any) -> CheckResult:
        model, failure = _compiled(value)
        return failure if failure is not None else compile_result(model)

    return verdict


def _verdict_training(kwargs: dict) -> Callable[[Any], CheckResult]:
    def verdict(value: Any) -> CheckResult:
        model, failure = _compiled(value)
        if failure is not None:
            return failure
        config = json.loads(value["compile_config"])

        def build(**_: Any) -> Any:
            return rebuild(value["model_json"])

        def compile_fn(m: Any) -> Any:
            m.compile_from_config(config)
            return m

        return training_result(build, compile_fn, seed=int(kwargs.get("seed", 0)))

    return verdict


#: the reference model ``check_compile_model`` compiles when no ``build`` is given
def _reference_json() -> str:
    return reference_compile_model().to_json()


def plan_lesson(funcs: list[str], kwargs: dict) -> list[tuple[dict, Callable[[Any], CheckResult]]]:
    kind = "twice" if kwargs.get("fresh") else "model"
    return [({"func": funcs[0], "args": [], "kwargs": {}, "keras": kind}, _verdict_lesson(kwargs))]


def plan_cifar(funcs: list[str], kwargs: dict) -> list[tuple[dict, Callable[[Any], CheckResult]]]:
    call_kwargs = {
        "input_shape": tuple(kwargs.get("input_shape", (32, 32, 3))),
        "num_classes": int(kwargs.get("num_classes", 10)),
    }
    return [({"func": funcs[0], "args": [], "kwargs": call_kwargs, "keras": "model"}, _verdict_cifar(kwargs))]


def plan_compile(funcs: list[str], kwargs: dict) -> list[tuple[dict, Callable[[Any], CheckResult]]]:
    build = kwargs.get("build")
    model = (
        {"func": build, "kwargs": {"input_shape": (32, 32, 3), "num_classes": 10}}
        if build
        else {"json": _reference_json()}
    )
    return [
        ({"func": funcs[0], "args": [], "kwargs": {}, "keras": "compiled", "model": model}, _verdict_compile(kwargs))
    ]


def plan_training(funcs: list[str], kwargs: dict) -> list[tuple[dict, Callable[[Any], CheckResult]]]:
    model = {"func": funcs[0], "kwargs": {"input_shape": (32, 32, 3), "num_classes": 10}}
    return [
        ({"func": funcs[1], "args": [], "kwargs": {}, "keras": "compiled", "model": model}, _verdict_training(kwargs))
    ]
