"""Ordinary nbgrader test cells, graded safely (issue #22): the one door of this room.

The test cell runs in the grading process (:mod:`.resolution`); the student's code runs only in the sandboxed
kernel, where the :mod:`.agent` answers the grading process's requests over a Unix socket (:mod:`.channel`) with
plain data (:mod:`.codec`). ``grading/`` uses this room through the names below only. The kernel imports
``grader_utils.cells.agent`` (this door loads nothing heavy: NumPy and the standard library).
"""

from __future__ import annotations

from .codec import CodecError, Handle, Model, Refused, decode, encode
from .resolution import Outcome, Session, TestNamespace, bound_names, hidden_lines, run_instructor_cell, run_test

__all__ = [
    "CodecError",
    "Handle",
    "Model",
    "Refused",
    "decode",
    "encode",
    "Outcome",
    "Session",
    "TestNamespace",
    "bound_names",
    "hidden_lines",
    "run_instructor_cell",
    "run_test",
]
