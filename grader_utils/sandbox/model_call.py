"""Model calls in the student's process (assignment 03): a model leaves the sandbox as plain data.

The probe (:mod:`.probe`) runs :func:`sandbox_call` for a call of a model exercise; what comes back
is the model's architecture as Keras JSON (``model.to_json()``) and its compile settings
(``model.get_compile_config()``) as JSON text, never a live object. The grading process rebuilds and
judges it (:mod:`grader_utils.judge.model_verdicts`). Nothing here judges.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["sandbox_call"]


def _to_json(model: Any, name: str) -> str:
    if not hasattr(model, "to_json") or not hasattr(model, "layers"):
        raise TypeError(f"{name} should return a Keras model, but it returned {type(model).__name__}")
    return model.to_json()


def sandbox_call(call: dict, ns: dict) -> dict:
    """Run one model call in the student's process; returns plain data (strings, bools)."""
    name = call["func"]
    func = ns[name]
    kind = call["keras"]
    if kind == "model":
        return {"model_json": _to_json(func(*call.get("args", []), **call.get("kwargs", {})), name)}
    if kind == "twice":  # every call must return the model: both are judged (by what they are, not by identity)
        first = _to_json(func(), name)
        return {"model_json": first, "second_json": _to_json(func(), name)}
    if kind == "compiled":
        source = call["model"]
        if "json" in source:
            import keras

            model = keras.models.model_from_json(source["json"])
        else:
            model = ns[source["func"]](**source.get("kwargs", {}))
        out = func(model)
        target = out if hasattr(out, "get_compile_config") and hasattr(out, "to_json") else None
        config = target.get_compile_config() if target is not None else None
        return {
            "model_json": (target or model).to_json(),
            "returned": type(out).__name__,
            "compile_config": json.dumps(config, default=repr) if config is not None else None,
        }
    raise ValueError(f"unknown model call {kind!r}")
