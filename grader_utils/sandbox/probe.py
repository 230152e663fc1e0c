"""Runs in the student's kernel while it is graded: one call of a student's function per request.

The grading process (:mod:`grader_utils.grading.graded_run`) sends the kernel, at each test cell's position, one
small request per call, e.g. ``__import__("grader_utils.sandbox.probe").sandbox.probe.run(3, "/k-.../probe", 20)``:
read call 3 from ``call_3.json``/``.npz`` (written just before the request), call the student's
function as it is defined *at that point of the notebook*, with a time limit, and write
``result_3.json``/``.npz``. The grading process times each request from outside and judges what
comes back; nothing here is trusted (the student's code runs in this process and may change
anything in it).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from ..i18n import N_
from . import protocol

__all__ = ["call_one", "run", "run_many"]

#: functions that ran out of time once: their later calls are not made
_HUNG: set[str] = set()


class CallTimeout(BaseException):
    """Raised by the alarm when one call runs too long (BaseException: hard to swallow)."""


def _alarm(signum: int, frame: Any) -> None:  # noqa: ARG001
    raise CallTimeout()


def _refusal(exc: BaseException) -> str:
    try:
        from .native_lock import refusal_in

        return refusal_in(exc)
    except Exception:  # noqa: BLE001
        return ""


def call_one(call: dict, ns: dict, hung: set[str], seconds: int = 20) -> dict:
    """Call the student's function as ``call`` says, for at most ``seconds``; the outcome as plain data."""
    name = call["func"]
    func = ns.get(name)
    if name in hung:
        return {
            "status": "timeout",
            "detail": N_("not run: an earlier call of {name} ran out of time").format(name=name),
        }
    if not callable(func):
        return {"status": "missing", "detail": N_("{name} is not defined (was its cell deleted?)").format(name=name)}
    try:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(seconds)
        if call.get("keras"):  # a model check: the model goes back as JSON text (sandbox/model_call.py)
            from .model_call import sandbox_call

            value = sandbox_call(call, ns)
        else:
            value = func(*call["args"], **call["kwargs"])
        signal.alarm(0)
        return {"status": "returned", "value": value}
    except CallTimeout:
        hung.add(name)
        return {
            "status": "timeout",
            "detail": N_("{name} ran longer than {seconds} s").format(name=name, seconds=seconds),
        }
    except NotImplementedError:
        signal.alarm(0)
        return {"status": "not_implemented", "detail": N_("{name} is not implemented yet").format(name=name)}
    except BaseException as exc:  # noqa: BLE001  (SystemExit and friends count as wrong answers)
        signal.alarm(0)
        return {"status": "raised", "detail": f"{type(exc).__name__}: {str(exc)[:500]}" + _refusal(exc)}


def run(index: int, folder: str, call_seconds: int) -> None:
    """Make call ``index`` described in ``folder`` and write its result there."""
    from IPython import get_ipython

    here = Path(folder)
    main_pid = os.getpid()
    start = time.perf_counter()
    result: dict[str, Any]
    try:
        call = protocol.load(here / f"call_{index}.json")
    except protocol.ProtocolError as exc:
        result = {"status": "raised", "detail": N_("the call could not be read: {error}").format(error=exc)[:500]}
    else:
        shell = get_ipython()
        result = call_one(call, shell.user_ns if shell is not None else {}, _HUNG, call_seconds)
    if os.getpid() != main_pid:  # forked inside the student's function: only the kernel answers
        os._exit(0)
    result["seconds"] = time.perf_counter() - start
    tmp = here / f".tmp_{index}.json"
    try:
        protocol.save(result, tmp)
    except Exception as exc:  # noqa: BLE001
        protocol.save(
            {"status": "raised", "detail": N_("the result could not be saved: {error}").format(error=exc)[:500]}, tmp
        )
    os.replace(tmp.with_suffix(".npz"), here / f"result_{index}.npz")
    os.replace(tmp, here / f"result_{index}.json")


def run_many(indexes: list[int], folder: str, call_seconds: int) -> None:
    """Make several calls (of one test cell, none of them timed) in one request."""
    for index in indexes:
        run(index, folder, call_seconds)
