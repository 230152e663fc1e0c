"""Plain data across the sandbox wall: JSON plus ``.npz`` arrays, never pickles.

The grading process sends a student's functions their inputs this way and gets
their results back the same way, so nothing the student's process returns can
be an object with behaviour (an ndarray subclass, a custom ``__eq__``...).

``encode(value, arrays)`` returns a JSON-able structure and puts every
``np.ndarray`` into ``arrays`` (saved with ``np.savez``); ``decode(obj, arrays)``
reverses it, strictly: anything unexpected raises :class:`ProtocolError`.

Tags: ``{"__tuple__": [...]}``, ``{"__array__": key}``, ``{"__np__": dtype, "value": v}``
(a NumPy scalar), ``{"__float__": "nan"|"inf"|"-inf"}``, ``{"__dict__": {...}}``,
``{"__unsupported__": description}`` (a value that is not plain data).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ProtocolError", "Unsupported", "encode", "decode", "dumps", "loads", "save", "load"]


class ProtocolError(ValueError):
    """Data that does not follow the protocol (malformed, or not plain data)."""


class Unsupported:
    """Stands for a value the student's code returned that is not plain data."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if type(value) is tuple:
        return {"__tuple__": [encode(v, arrays) for v in value]}
    if type(value) is list:
        return [encode(v, arrays) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: encode(v, arrays) for k, v in value.items()}}
    if type(value) is np.ndarray:
        if value.dtype.hasobject or value.dtype.kind not in "biufc":
            return {"__unsupported__": f"an array of dtype {value.dtype}"}
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.kind in "biuf":
        item = value.item()
        return {"__np__": value.dtype.str, "value": item if math.isfinite(float(item)) else repr(float(item))}
    kind = type(value)
    extra = " (an ndarray subclass)" if isinstance(value, np.ndarray) else ""
    return {"__unsupported__": f"a {kind.__module__}.{kind.__qualname__} object{extra}"[:200]}


def decode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, arrays) for v in obj]
    if not isinstance(obj, dict) or len(obj) not in (1, 2):
        raise ProtocolError(f"unexpected value {str(obj)[:80]}")
    if "__tuple__" in obj:
        return tuple(decode(v, arrays) for v in _list(obj["__tuple__"]))
    if "__array__" in obj:
        key = obj["__array__"]
        if key not in arrays:
            raise ProtocolError(f"missing array {key!r}")
        array = arrays[key]
        if type(array) is not np.ndarray or array.dtype.hasobject:
            raise ProtocolError("array is not a plain ndarray")
        return array
    if "__np__" in obj:
        dtype = np.dtype(str(obj["__np__"]))
        if dtype.kind not in "biuf":
            raise ProtocolError(f"scalar of dtype {dtype}")
        value = obj["value"]
        return dtype.type(float(value) if isinstance(value, str) else value)
    if "__float__" in obj:
        if obj["__float__"] not in ("nan", "inf", "-inf"):
            raise ProtocolError("bad float")
        return float(obj["__float__"])
    if "__dict__" in obj:
        return {str(k): decode(v, arrays) for k, v in dict(obj["__dict__"]).items()}
    if "__unsupported__" in obj:
        return Unsupported(str(obj["__unsupported__"])[:200])
    raise ProtocolError(f"unknown tag in {str(obj)[:80]}")


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ProtocolError("expected a list")
    return value


def dumps(value: Any) -> tuple[bytes, bytes]:
    """``value`` as (JSON text, ``.npz`` bytes of its arrays)."""
    import io

    arrays: dict[str, np.ndarray] = {}
    text = json.dumps(encode(value, arrays)).encode()
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return text, buffer.getvalue()


def loads(text: bytes, npz: bytes) -> Any:
    """What :func:`dumps` made, strictly decoded (ProtocolError for anything else)."""
    import io

    try:
        obj = json.loads(text)
        with np.load(io.BytesIO(npz), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001  (whatever the bytes are, they are not our protocol)
        raise ProtocolError(f"unreadable results: {type(exc).__name__}: {str(exc)[:200]}") from None
    return decode(obj, arrays)


def save(value: Any, path: Path) -> None:
    """Write ``value`` as ``path`` (JSON) and ``path.with_suffix('.npz')`` (arrays): :func:`dumps` on disk."""
    text, npz = dumps(value)
    path.with_suffix(".npz").write_bytes(npz)
    path.write_bytes(text)


def load(path: Path, max_bytes: int = 256 * 1024**2) -> Any:
    """Read what :func:`save` wrote (:func:`loads`), refusing links, oversized files and malformed data."""
    npz = path.with_suffix(".npz")
    for p in (path, npz):
        if not p.is_file() or p.is_symlink():
            raise ProtocolError(f"{p.name} is missing")
        if p.stat().st_size > max_bytes:
            raise ProtocolError(f"{p.name} is larger than {max_bytes} bytes")
    try:
        text, data = path.read_bytes(), npz.read_bytes()
    except OSError as exc:
        raise ProtocolError(f"unreadable results: {exc}") from None
    return loads(text, data)
