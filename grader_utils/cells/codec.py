"""Plain data across the wall between the grading process and the student's kernel, both ways.

One message is one *frame*: ``[8-byte header length][header JSON][array buffers...]`` where the header is a JSON
object and every NumPy array's bytes follow it, in order. :func:`encode` makes a frame from a value,
:func:`decode` reads one back, strictly.

What crosses (exact built-in types only, never a subclass): ``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``, ``list``, ``tuple``, ``dict``, ``set``, ``frozenset``, NumPy scalars of NumPy's own numeric
types and ``np.ndarray`` (C-contiguous copies; dtypes bool, int, uint, float, complex: never ``object``). An
array's shape and dtype are read from the header and its size checked against the frame and the caps *before*
anything is allocated. A value that is not plain data (a subclass, an object with its own ``__eq__``, a generator,
a lazy proxy...) is encoded as a *refusal* (:class:`Refused`, with a description of what it was), never as the
object: the grading side turns a refusal into a 0 with a clear message.

Two more tags exist for the agent's protocol, not for values a test compares: ``handle`` (a student function,
known to the grading side by a number: :class:`Handle`) and ``model`` (a Keras model as its JSON text, rebuilt by
the grading side in Keras' safe mode).

Header JSON encoding, one tag per value: ``null``/``true``/``false``/strings as themselves; everything else as a
one-key object: ``{"i": "123"}`` int, ``{"f": "1.5"}`` float (``repr``: NaN, infinities and -0.0 survive),
``{"c": [re, im]}``, ``{"b": base64}``, ``{"l": [...]}``, ``{"t": [...]}``, ``{"d": [[k, v], ...]}``,
``{"s": [...]}``, ``{"fs": [...]}``, ``{"n": [dtype, repr]}`` NumPy scalar, ``{"a": [dtype, shape]}`` array,
``{"h": id}`` handle, ``{"m": json_text}`` model, ``{"r": description}`` refusal.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..i18n import N_

__all__ = [
    "CodecError",
    "Handle",
    "Model",
    "Refused",
    "Limits",
    "LIMITS",
    "encode",
    "decode",
    "describe",
]


class CodecError(ValueError):
    """A frame that does not follow the format, or goes past a cap: nothing was decoded."""


@dataclass(frozen=True)
class Refused:
    """Stands for a value that was not plain data (``description`` says what it was)."""

    description: str


@dataclass(frozen=True)
class Handle:
    """A student function, known to the grading side only by its number in the agent's table."""

    id: int
    name: str = ""


@dataclass(frozen=True)
class Model:
    """A Keras model as its JSON text (``model.to_json()``)."""

    json: str


@dataclass(frozen=True)
class Limits:
    """Caps on one frame: its bytes, the values in it, how deep they nest, one string's or bytes' length."""

    frame_bytes: int = 256 * 1024**2
    items: int = 1_000_000
    depth: int = 64
    text_bytes: int = 64 * 1024**2


LIMITS = Limits()
_HEADER = struct.Struct("<Q")
#: the dtype kinds an array or NumPy scalar may have: bool, int, uint, float, complex
_KINDS = "biufc"


def describe(value: Any) -> str:
    """What a refused value was, in a few words (for the feedback)."""
    kind = type(value)
    what = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__
    for base in (list, tuple, dict, set, frozenset, str, bytes, int, float, complex, np.ndarray):
        if isinstance(value, base) and kind is not base:
            return N_("a {what} object (a subclass of {base}, not plain data)").format(what=what, base=base.__name__)[
                :200
            ]
    if isinstance(value, np.ndarray):
        return N_("an array of dtype {dtype} (not plain numbers)").format(dtype=value.dtype)[:200]
    return N_("a {what} object (not plain data)").format(what=what)[:200]


# ------------------------------------------------------------------ encoding


class _Encoder:
    def __init__(self, limits: Limits, strict: bool = False) -> None:
        self.limits = limits
        self.strict = strict
        self.buffers: list[bytes] = []
        self.items = 0
        self.size = 0

    def value(self, v: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.limits.items:
            raise CodecError(f"more than {self.limits.items} values")
        if depth > self.limits.depth:
            raise CodecError(f"nested deeper than {self.limits.depth}")
        kind = type(v)
        if v is None or kind is bool:
            return v
        if kind is str:
            self._text(len(v))
            return v
        if kind is int:
            return {"i": str(v)}
        if kind is float:
            return {"f": repr(v)}
        if kind is complex:
            return {"c": [repr(v.real), repr(v.imag)]}
        if kind is bytes:
            self._text(len(v))
            return {"b": base64.b64encode(v).decode("ascii")}
        if kind is list:
            return {"l": [self.value(x, depth + 1) for x in v]}
        if kind is tuple:
            return {"t": [self.value(x, depth + 1) for x in v]}
        if kind is dict:
            return {"d": [[self.value(k, depth + 1), self.value(x, depth + 1)] for k, x in v.items()]}
        if kind is set:
            return {"s": [self.value(x, depth + 1) for x in v]}
        if kind is frozenset:
            return {"fs": [self.value(x, depth + 1) for x in v]}
        if kind is np.ndarray:
            if v.dtype.kind not in _KINDS or v.dtype.hasobject or v.dtype.fields is not None:
                return self.refuse(v)
            data = np.ascontiguousarray(v).tobytes()
            self._grow(len(data))
            self.buffers.append(data)
            return {"a": [v.dtype.str, list(v.shape)]}
        if isinstance(v, np.generic) and kind.__module__ == "numpy" and v.dtype.kind in _KINDS:
            return {"n": [v.dtype.str, repr(v.item())]}
        if kind is Handle:
            return {"h": v.id, "name": v.name}
        if kind is Model:
            self._grow(len(v.json))
            return {"m": v.json}
        if kind is Refused and not self.strict:
            return {"r": v.description}
        return self.refuse(v)

    def refuse(self, v: Any) -> dict:
        if self.strict:
            raise CodecError(f"not plain data: {describe(v)}")
        return {"r": describe(v)}

    def _text(self, n: int) -> None:
        if n > self.limits.text_bytes:
            raise CodecError(f"a string of more than {self.limits.text_bytes} bytes")
        self._grow(n)

    def _grow(self, n: int) -> None:
        self.size += n
        if self.size > self.limits.frame_bytes:
            raise CodecError(f"more than {self.limits.frame_bytes} bytes")


def encode(value: Any, limits: Limits = LIMITS, strict: bool = False) -> bytes:
    """``value`` as one frame. Values that are not plain data become refusals inside the frame (``strict``:
    :class:`CodecError` instead); a value past the caps (or a structure that cannot be walked) raises
    :class:`CodecError`."""
    encoder = _Encoder(limits, strict)
    try:
        header = json.dumps(encoder.value(value), allow_nan=False).encode()
    except RecursionError:
        raise CodecError("nested too deep") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"cannot encode: {exc}"[:200]) from None
    frame = b"".join([_HEADER.pack(len(header)), header, *encoder.buffers])
    if len(frame) > limits.frame_bytes:
        raise CodecError(f"more than {limits.frame_bytes} bytes")
    return frame


# ------------------------------------------------------------------ decoding


class _Decoder:
    def __init__(self, body: memoryview, limits: Limits) -> None:
        self.body = body
        self.at = 0
        self.limits = limits
        self.items = 0

    def value(self, obj: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.limits.items or depth > self.limits.depth:
            raise CodecError("too many or too deeply nested values")
        if obj is None or type(obj) is bool or type(obj) is str:
            return obj
        if type(obj) is not dict or len(obj) not in (1, 2):
            raise CodecError(f"unexpected value {str(obj)[:60]}")
        tag = next(iter(obj))
        arg = obj[tag]
        if tag == "i":
            return int(_str(arg))
        if tag == "f":
            return float(_str(arg))
        if tag == "c":
            re_, im = _list(arg, 2)
            return complex(float(_str(re_)), float(_str(im)))
        if tag == "b":
            return base64.b64decode(_str(arg), validate=True)
        if tag == "l":
            return [self.value(x, depth + 1) for x in _list(arg)]
        if tag == "t":
            return tuple(self.value(x, depth + 1) for x in _list(arg))
        if tag == "d":
            out = {}
            for pair in _list(arg):
                k, v = _list(pair, 2)
                out[_hashable(self.value(k, depth + 1))] = self.value(v, depth + 1)
            return out
        if tag in ("s", "fs"):
            items = {_hashable(self.value(x, depth + 1)) for x in _list(arg)}
            return items if tag == "s" else frozenset(items)
        if tag == "n":
            dtype, text = _list(arg, 2)
            dt = _dtype(dtype)
            return dt.type(_scalar(dt, _str(text)))
        if tag == "a":
            return self.array(arg)
        if tag == "h":
            if type(arg) is not int:
                raise CodecError("bad handle")
            return Handle(arg, str(obj.get("name", ""))[:200])
        if tag == "m":
            return Model(_str(arg))
        if tag == "r":
            return Refused(_str(arg)[:200])
        raise CodecError(f"unknown tag {tag[:20]!r}")

    def array(self, arg: Any) -> np.ndarray:
        dtype, shape = _list(arg, 2)
        dt = _dtype(dtype)
        dims = _list(shape)
        if len(dims) > 32 or not all(type(d) is int and d >= 0 for d in dims):
            raise CodecError("bad array shape")
        count = math.prod(dims)
        nbytes = count * dt.itemsize
        if nbytes > len(self.body) - self.at or nbytes > self.limits.frame_bytes:
            raise CodecError(f"an array of {nbytes} bytes does not fit the frame")
        data = np.frombuffer(self.body, dtype=dt, count=count, offset=self.at).reshape(dims).copy()
        self.at += nbytes
        return data


def _str(v: Any) -> str:
    if type(v) is not str:
        raise CodecError("expected text")
    return v


def _list(v: Any, n: int | None = None) -> list:
    if type(v) is not list or (n is not None and len(v) != n):
        raise CodecError("expected a list" + (f" of {n}" if n else ""))
    return v


def _dtype(text: Any) -> np.dtype:
    try:
        dt = np.dtype(_str(text))
    except TypeError:
        raise CodecError(f"bad dtype {str(text)[:30]!r}") from None
    if dt.kind not in _KINDS or dt.hasobject or dt.fields is not None or dt.subdtype is not None:
        raise CodecError(f"dtype {dt} is not plain numbers")
    return dt


def _scalar(dt: np.dtype, text: str) -> Any:
    if dt.kind == "b":
        if text not in ("True", "False"):
            raise CodecError("bad bool")
        return text == "True"
    if dt.kind in "iu":
        return int(text)
    if dt.kind == "c":
        return complex(text)
    return float(text)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
    except TypeError:
        raise CodecError("an unhashable key") from None
    return v


def decode(frame: bytes | bytearray | memoryview, limits: Limits = LIMITS) -> Any:
    """The value of one frame (refusals as :class:`Refused`); :class:`CodecError` for anything malformed,
    oversized, or with bytes left over."""
    view = memoryview(frame)
    if len(view) > limits.frame_bytes:
        raise CodecError(f"more than {limits.frame_bytes} bytes")
    if len(view) < _HEADER.size:
        raise CodecError("a frame shorter than its header")
    (size,) = _HEADER.unpack(view[: _HEADER.size])
    if size > len(view) - _HEADER.size:
        raise CodecError("a header longer than the frame")
    try:
        obj = json.loads(bytes(view[_HEADER.size : _HEADER.size + size]))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"a malformed header ({type(exc).__name__})") from None
    decoder = _Decoder(view[_HEADER.size + size :], limits)
    try:
        value = decoder.value(obj)
    except CodecError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CodecError(f"a malformed value ({type(exc).__name__}: {str(exc)[:100]})") from None
    if decoder.at != len(decoder.body):
        raise CodecError("bytes left over after the last array")
    return value
