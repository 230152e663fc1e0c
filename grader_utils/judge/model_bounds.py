"""The work a Keras model or compile configuration implies, bounded before Keras builds anything.

A student's model crosses the sandbox as its Keras JSON (``model.to_json()``, which carries the
model's ``compile_config`` and every layer's ``build_config`` too) and its compile settings
(``model.get_compile_config()``). Keras acts on every part of them when it rebuilds: a metric's
``num_classes`` becomes a ``num_classes x num_classes`` confusion matrix, a layer placed in another
layer's ``activation`` slot is built with its own weights, a ``build_config`` builds a layer for the
shape it names. So before :mod:`.model_verdicts` lets Keras see a configuration, :func:`model_problem`
and :func:`compile_problem` walk it in full, as plain data (no Keras import), and say why it is
refused, or None:

* every serialized object (a dict with ``class_name``) is where its slot expects it: layers only in the
  ``Sequential`` model's list of layers, never inside another layer (``activation``, initializers,
  regularizers, constraints hold objects of their own modules only); optimizers, losses, metrics and
  learning-rate schedules only in a compile configuration; no ``registered_name`` (custom objects);
* the walk visits at most :data:`MAX_NODES` values, :data:`MAX_DEPTH` deep, lists of at most
  :data:`MAX_LIST` items;
* every integer (but a ``seed``) and every number in a key that sizes work (:data:`WORK_KEYS`) is at most
  :data:`MAX_NUMBER`;
* the state metrics and losses keep (``num_classes`` squared for confusion matrices, thresholds,
  ``num_thresholds x num_labels``) adds up to at most :data:`MAX_METRIC_VALUES` values.

The weights and activations of the layers themselves are counted by
:func:`.model_verdicts.model_size_problem` from Keras' own output shapes, which also checks that every
``build_config`` names the shape the layer really receives.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_METRIC_VALUES",
    "MAX_NODES",
    "MAX_NUMBER",
    "WORK_KEYS",
    "compile_problem",
    "model_problem",
]

#: values (dict entries and list items, at every depth) one configuration may hold
MAX_NODES = 50_000
#: nesting of dicts and lists
MAX_DEPTH = 40
#: items of one list
MAX_LIST = 10_000
#: the largest integer (or number in a :data:`WORK_KEYS` key) a configuration may state
MAX_NUMBER = 1_000_000
#: values the metrics and losses of one compile configuration may keep as state
MAX_METRIC_VALUES = 1_000_000
#: keys whose number sizes work, float or int (Keras casts some floats to int)
WORK_KEYS = frozenset(
    {
        "units",
        "filters",
        "num_classes",
        "num_thresholds",
        "num_labels",
        "thresholds",
        "input_dim",
        "output_dim",
        "depth_multiplier",
        "kernel_size",
        "pool_size",
        "size",
        "n",
        "k",
        "target_shape",
        "batch_shape",
        "input_shape",
        "batch_input_shape",
        "build_input_shape",
        "steps_per_execution",
        "gradient_accumulation_steps",
        "ema_overwrite_frequency",
        "decay_steps",
        "height",
        "width",
        "groups",
    }
)
#: keys whose integers are not work (random seeds may be any 64-bit number)
_FREE_KEYS = frozenset({"seed"})

#: the modules whose objects may sit inside a layer's configuration, and where else objects may sit
_IN_LAYER = ("keras.initializers", "keras.regularizers", "keras.constraints", "keras.activations")
_IN_COMPILE = ("keras.optimizers", "keras.losses", "keras.metrics", "keras.optimizers.schedules")
#: the one object of module ``keras`` a layer or model may hold
_POLICIES = {"DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy"}


class _Refused(Exception):
    """Why a configuration is refused (the message a student reads)."""


class _Walk:
    def __init__(self) -> None:
        self.nodes = 0
        self.metric_values = 0

    def visit(self, value: Any, key: str, depth: int, where: str) -> None:
        """``value`` found under ``key``; ``where``: ``layer`` (inside one layer), ``compile``, ``model``."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _Refused(
                tr(
                    "its description is too large or too deeply nested (the grader reads at most {nodes:,} "
                    "values, {depth} levels deep)",
                    nodes=MAX_NODES,
                    depth=MAX_DEPTH,
                )
            )
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return
        if isinstance(value, (int, float)):
            sizes_work = (isinstance(value, int) and key not in _FREE_KEYS) or key in WORK_KEYS
            if sizes_work and not abs(value) <= MAX_NUMBER:  # also NaN
                raise _Refused(
                    tr(
                        "{key} = {value} is larger than the grader allows ({limit:,})",
                        key=key[:40],
                        value=str(value)[:40],
                        limit=MAX_NUMBER,
                    )
                )
            return
        if isinstance(value, list):
            if len(value) > MAX_LIST:
                raise _Refused(
                    tr(
                        "{key} lists {count:,} items (at most {limit:,})",
                        key=key[:40],
                        count=len(value),
                        limit=MAX_LIST,
                    )
                )
            for item in value:
                self.visit(item, key, depth + 1, where)
            return
        if not isinstance(value, dict):
            raise _Refused(tr("its description holds an unexpected value"))
        if "class_name" in value:
            self.object(value, key, depth, where)
            return
        for k, v in value.items():
            self.visit(v, str(k), depth + 1, where)

    def object(self, obj: dict, key: str, depth: int, where: str) -> None:
        """A serialized Keras object: allowed in this slot, its configuration walked, its state counted."""
        name = str(obj.get("class_name"))[:40]
        module = obj.get("module")
        if obj.get("registered_name") not in (None, name):
            raise _Refused(tr("it uses a custom object ({name}) the grader does not rebuild", name=name))
        if module == "keras.layers" or (module is None and where == "layer"):
            if where != "model" or key != "layers":
                raise _Refused(
                    tr(
                        "a {kind} layer is nested in {slot}: the grader rebuilds layers only in the model's list of "
                        'layers (use Keras\' built-in activations such as "relu")',
                        kind=name,
                        slot=key[:40],
                    )
                )
            inner = "layer"
        elif module == "keras" and name in _POLICIES:
            inner = where
        elif module == "keras" and name in ("Sequential", "Functional", "Model") and where == "top":
            inner = "model"
        elif module in _IN_LAYER and where in ("layer", "compile"):
            inner = where
        elif module in _IN_COMPILE and where == "compile":
            inner = "compile"
            self.count_state(name, obj.get("config"))
        else:
            raise _Refused(
                tr(
                    "it holds a {kind} object in {slot}, which the grader does not rebuild there",
                    kind=f"{module}.{name}" if module else name,
                    slot=key[:40],
                )
            )
        for k, v in obj.items():
            if k == "compile_config" and inner == "model":
                self.visit(v, k, depth + 1, "compile")
            elif k not in ("class_name", "module", "registered_name"):
                self.visit(v, str(k), depth + 1, inner)

    def count_state(self, name: str, config: Any) -> None:
        """Values a metric or loss keeps (its variables), from its configuration."""
        if not isinstance(config, dict):
            return

        def number(key: str, default: int = 0) -> int:
            value = config.get(key)
            return int(value) if isinstance(value, (int, float)) and abs(value) <= MAX_NUMBER else default

        values = 0
        if "num_classes" in config:
            values = max(values, number("num_classes") ** 2)  # confusion matrices (IoU family)
        thresholds = config.get("thresholds")
        if isinstance(thresholds, list):
            values = max(values, 4 * len(thresholds))
        if "num_thresholds" in config:
            values = max(values, 4 * number("num_thresholds") * max(1, number("num_labels", 1)))
        self.metric_values += values
        if self.metric_values > MAX_METRIC_VALUES:
            raise _Refused(
                tr(
                    "its metrics and losses would keep {count:,} values ({name}); the grader allows {limit:,}",
                    count=self.metric_values,
                    name=name,
                    limit=MAX_METRIC_VALUES,
                )
            )


def model_problem(config: Any) -> str | None:
    """Why the model configuration ``config`` (``json.loads(model.to_json())``) implies more work than the
    grading process does, or holds an object where Keras would build something unexpected; None when the
    walk finds nothing. Pure: reads the dict only."""
    if not isinstance(config, dict):
        return tr("its description is not a Keras model")
    try:
        _Walk().visit(config, "model", 0, "top")
    except _Refused as refused:
        return str(refused)
    except RecursionError:
        return tr("its description is too deeply nested")
    return None


def compile_problem(config: Any) -> str | None:
    """Why the compile configuration ``config`` (``model.get_compile_config()``) implies more work than
    the grading process does (metrics' state, numbers, objects out of place), or None. Pure."""
    if config is None:
        return None
    if not isinstance(config, dict):
        return tr("its compile settings are not a dict")
    try:
        _Walk().visit(config, "compile_config", 0, "compile")
    except _Refused as refused:
        return str(refused)
    except RecursionError:
        return tr("its compile settings are too deeply nested")
    return None
