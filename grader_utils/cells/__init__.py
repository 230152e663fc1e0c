"""Ordinary nbgrader test cells, graded safely (issue #22): the one door of this room.

The test cell runs in the grading process (:mod:`.resolution`, :mod:`.notebook_cells`); the student's code runs only in
the sandboxed kernel, where the :mod:`.agent` answers the grading process's requests over a Unix socket
(:mod:`.channel`) with plain data (:mod:`.codec`). ``grading/`` uses this room through the names below only.
The kernel imports ``grader_utils.cells.agent``, so this door loads nothing itself: each name is imported when
it is first used (the grading side's modules, with nbformat and IPython, never load in the kernel).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> the module of this room that defines it
_NAMES = {
    "CodecError": "codec",
    "Handle": "codec",
    "Model": "codec",
    "Refused": "codec",
    "decode": "codec",
    "encode": "codec",
    "Outcome": "resolution",
    "Session": "resolution",
    "TestNamespace": "resolution",
    "bound_names": "resolution",
    "hidden_lines": "resolution",
    "run_instructor_cell": "resolution",
    "run_test": "resolution",
    "NotebookCells": "notebook_cells",
    "INSTRUCTOR_SECONDS": "notebook_cells",
    "check_notebook": "release_check",
    "CellPlan": "release_check",
    "Problem": "release_check",
}
__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_NAMES[name]}", __name__), name)
