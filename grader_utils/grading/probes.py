"""The probe folder: how the grading process makes calls into the sandboxed kernel and reads their results.

At a test cell the grading process writes each call's input (``call_<i>.json`` and ``call_<i>.npz``,
:mod:`protocol`: JSON and arrays, no pickles) just before the kernel runs the probe
(:mod:`grader_utils.sandbox.probe`, started by the source :func:`_probe_source` gives), and reads back
``result_<i>.json`` / ``result_<i>.npz``. The kernel can write in the folder, so :class:`_Probes` reaches
every file through a descriptor of the folder opened once, never following links, and reads only plain
files of bounded size; what they hold is read within :data:`protocol.DEFAULT_BOUNDS` (array shapes and
dtypes from their headers before any is inflated).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..sandbox import protocol


class _Probes:
    """The folder through which calls go into the kernel and results come out. The kernel can write
    there, so every access goes through a descriptor of the folder opened once, never following links."""

    def __init__(self, folder: Path) -> None:
        self.path = folder
        self.fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)

    def close(self) -> None:
        os.close(self.fd)

    def _unlink(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            pass

    def _write(self, name: str, data: bytes) -> None:
        self._unlink(name)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=self.fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def _read(self, name: str, max_bytes: int = protocol.DEFAULT_BOUNDS.max_file_bytes) -> bytes:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                raise protocol.ProtocolError(f"{name} is not a plain file of at most {max_bytes} bytes")
            return f.read(max_bytes + 1)

    def put_call(self, index: int, call: dict) -> None:
        for suffix in (".json", ".npz"):
            self._unlink(f"result_{index}{suffix}")
        text, npz = protocol.dumps(call)
        self._write(f"call_{index}.npz", npz)
        self._write(f"call_{index}.json", text)

    def has_result(self, index: int) -> bool:
        try:
            return stat.S_ISREG(os.stat(f"result_{index}.json", dir_fd=self.fd, follow_symlinks=False).st_mode)
        except OSError:
            return False

    def result(self, index: int) -> Any:
        bounds = protocol.DEFAULT_BOUNDS
        text = self._read(f"result_{index}.json", bounds.max_json_bytes)
        return protocol.loads(text, self._read(f"result_{index}.npz", bounds.max_file_bytes), bounds)


def _probe_source(index: int, folder: Path, seconds: int) -> str:
    return f"__import__('grader_utils.sandbox.probe').sandbox.probe.run({index}, {str(folder)!r}, {seconds})"
