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

Sizes are checked before the work they cause (:class:`Bounds`, :func:`read_arrays`): the ``.npz``
archive's entry count from its end record before it is parsed, every array's shape and dtype from its
``.npy`` header before a byte of it is inflated (object and structured dtypes refused), each array's
and all arrays' decompressed size capped, reading in bounded chunks (a compressed bomb stops at the
cap without allocating what it claims), and the JSON text's length capped before it is parsed. Any
reader of sandbox data (the probes' results, an ordinary test cell's values) calls :func:`loads` or
:func:`read_arrays` with its :class:`Bounds`.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import tr

__all__ = [
    "Bounds",
    "DEFAULT_BOUNDS",
    "ProtocolError",
    "Unsupported",
    "encode",
    "decode",
    "dumps",
    "loads",
    "read_arrays",
    "save",
    "load",
]


class ProtocolError(ValueError):
    """Data that does not follow the protocol (malformed, or not plain data)."""


class Unsupported:
    """Stands for a value the student's code returned that is not plain data."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


@dataclass(frozen=True)
class Bounds:
    """The most that data from the sandbox may make the reader hold, checked before the work it causes.

    ``max_array_bytes``: one array's decompressed size; ``max_total_bytes``: all arrays of one result
    together; ``max_arrays``: entries of one ``.npz``; ``max_dims``: an array's number of dimensions;
    ``max_json_bytes``: the JSON text (a parsed number or list item costs up to ~4x its text);
    ``max_file_bytes``: each file as read from disk (the ``.npz`` compressed)."""

    max_array_bytes: int = 64 * 1024**2
    max_total_bytes: int = 128 * 1024**2
    max_arrays: int = 1024
    max_dims: int = 32
    max_json_bytes: int = 16 * 1024**2
    max_file_bytes: int = 128 * 1024**2


#: what a probe's result or a call's input may hold (every value a test cell checks is far smaller)
DEFAULT_BOUNDS = Bounds()

_CHUNK = 1024**2


def _entry_count(npz: bytes) -> int:
    """The number of entries a zip archive's end record declares (before :mod:`zipfile` parses its
    directory, which costs memory per entry). ZIP64 archives are refused: ``np.savez`` of a result
    within :class:`Bounds` never makes one."""
    end = npz.rfind(b"PK\x05\x06", max(0, len(npz) - 22 - 65535))
    if end < 0 or len(npz) - end < 22:
        raise ProtocolError(tr("the arrays' archive is not a zip file"))
    if npz.rfind(b"PK\x06\x07", max(0, end - 20), end) >= 0:
        raise ProtocolError(tr("the arrays' archive is a ZIP64 file (too large)"))
    return struct.unpack("<H", npz[end + 10 : end + 12])[0]


def read_arrays(npz: bytes, bounds: Bounds = DEFAULT_BOUNDS) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (``np.savez`` bytes), name -> plain ``np.ndarray``, read within
    ``bounds``: each array's shape and dtype come from its ``.npy`` header and are checked (numeric
    dtypes only, sizes under the caps) before its data is inflated, in bounded chunks. Raises
    :class:`ProtocolError` for anything else; never allocates more than the caps allow."""
    if len(npz) > bounds.max_file_bytes:
        raise ProtocolError(tr("the arrays' file is larger than {limit} bytes", limit=bounds.max_file_bytes))
    count = _entry_count(npz)
    if count > bounds.max_arrays:
        raise ProtocolError(
            tr("the result holds {count} arrays (at most {limit} allowed)", count=count, limit=bounds.max_arrays)
        )
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        archive = zipfile.ZipFile(io.BytesIO(npz))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ProtocolError(tr("unreadable arrays ({error})", error=str(exc)[:120])) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > bounds.max_arrays:
            raise ProtocolError(
                tr(
                    "the result holds {count} arrays (at most {limit} allowed)",
                    count=len(infos),
                    limit=bounds.max_arrays,
                )
            )
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in arrays:
                raise ProtocolError(tr("unexpected entry {name} in the arrays' file", name=info.filename[:60]))
            try:
                with archive.open(info) as f:
                    array = _read_npy(f, bounds, bounds.max_total_bytes - total)
            except ProtocolError:
                raise
            except Exception as exc:  # noqa: BLE001  (a damaged archive or header, whatever it says)
                raise ProtocolError(
                    tr("unreadable array {name} ({error})", name=info.filename[:60], error=f"{type(exc).__name__}")
                ) from None
            total += array.nbytes
            arrays[info.filename[:-4]] = array
    return arrays


def _read_npy(f: Any, bounds: Bounds, room: int) -> np.ndarray:
    """One ``.npy`` stream: header checked, then exactly its data, read in chunks of at most 1 MiB."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(f)
    else:
        raise ProtocolError(tr("unknown .npy version {version}", version=str(version)))
    if dtype.hasobject or dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(tr("an array of dtype {dtype} (numbers only)", dtype=str(dtype)[:40]))
    if len(shape) > bounds.max_dims or not all(type(d) is int and d >= 0 for d in shape):
        raise ProtocolError(tr("an array of shape {shape}", shape=str(shape)[:80]))
    size = math.prod(shape) * dtype.itemsize
    limit = min(bounds.max_array_bytes, room)
    if size > limit:
        raise ProtocolError(
            tr(
                "an array of shape {shape} and dtype {dtype} ({size} bytes) is larger than the {limit} bytes allowed",
                shape=str(shape)[:80],
                dtype=str(dtype),
                size=f"{size:,}",
                limit=f"{limit:,}",
            )
        )
    data = bytearray()
    while len(data) < size:
        chunk = f.read(min(_CHUNK, size - len(data)))
        if not chunk:
            raise ProtocolError(tr("an array's data is shorter than its header says"))
        data += chunk
    if f.read(1):
        raise ProtocolError(tr("an array's data is longer than its header says"))
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape, order="F" if fortran else "C") if shape else flat.reshape(())


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
    arrays: dict[str, np.ndarray] = {}
    text = json.dumps(encode(value, arrays)).encode()
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return text, buffer.getvalue()


def loads(text: bytes, npz: bytes, bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """What :func:`dumps` made, strictly decoded within ``bounds`` (ProtocolError for anything else)."""
    if len(text) > bounds.max_json_bytes:
        raise ProtocolError(tr("the result's text is larger than {limit} bytes", limit=bounds.max_json_bytes))
    arrays = read_arrays(npz, bounds)
    try:
        obj = json.loads(text)
        return decode(obj, arrays)
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001  (whatever the bytes are, they are not our protocol)
        raise ProtocolError(f"unreadable results: {type(exc).__name__}: {str(exc)[:200]}") from None


def save(value: Any, path: Path) -> None:
    """Write ``value`` as ``path`` (JSON) and ``path.with_suffix('.npz')`` (arrays): :func:`dumps` on disk."""
    text, npz = dumps(value)
    path.with_suffix(".npz").write_bytes(npz)
    path.write_bytes(text)


def load(path: Path, max_bytes: int = DEFAULT_BOUNDS.max_file_bytes, bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """Read what :func:`save` wrote (:func:`loads` within ``bounds``), refusing links, oversized files
    and malformed data."""
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
    return loads(text, data, bounds)
