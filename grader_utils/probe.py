"""Runs in the student's kernel while it is graded: one call of a student's function per request.

The grading process (:mod:`kernel_sandbox`) sends the kernel, at each test cell's position, one
small request per call, e.g. ``__import__("grader_utils.probe").probe.run(3, "/k-.../probe", 20)``:
read call 3 from ``call_3.json``/``.npz`` (written just before the request), call the student's
function as it is defined *at that point of the notebook*, write ``result_3.json``/``.npz``.
The grading process times each request from outside and judges what comes back; nothing here
is trusted (the student's code runs in this process and may change anything in it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import protocol

__all__ = ["run"]

#: functions that ran out of time once: their later calls are not made
_HUNG: set[str] = set()


def run(index: int, folder: str, call_seconds: int) -> None:
    """Make call ``index`` described in ``folder`` and write its result there."""
    from IPython import get_ipython

    from .harness import call_one

    here = Path(folder)
    start = time.perf_counter()
    try:
        call = protocol.load(here / f"call_{index}.json")
    except protocol.ProtocolError as exc:
        result = {"status": "raised", "detail": f"the call could not be read: {exc}"[:500]}
    else:
        shell = get_ipython()
        result = call_one(call, shell.user_ns if shell is not None else {}, _HUNG, call_seconds)
    result["seconds"] = time.perf_counter() - start
    tmp = here / f".tmp_{index}.json"
    try:
        protocol.save(result, tmp)
    except Exception as exc:  # noqa: BLE001
        protocol.save({"status": "raised", "detail": f"the result could not be saved: {exc}"[:500]}, tmp)
    os.replace(tmp.with_suffix(".npz"), here / f"result_{index}.npz")
    os.replace(tmp, here / f"result_{index}.json")
