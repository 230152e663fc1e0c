"""Runs inside the sandbox: the student's cells, then the calls the grader asks for, one at a time.

Usage (cwd = the scratch folder): ``python -m grader_utils.harness``, started by :mod:`engine`
through :func:`sandbox.run_sandboxed` with a driver. Reads ``cells.json`` (the student's code
cells, in order) and runs them in one IPython namespace (errors are recorded and the next cell
runs, as in a notebook). Then it says ``ready`` and waits: for each line ``<i>`` on its standard
input it reads call ``i`` from ``call_<i>.json``/``.npz`` (:mod:`protocol` form:
``{"func": name, "args": [...], "kwargs": {...}}``), which the grading process writes only just
before it sends the line, calls the student's function with a time limit, writes
``result_<i>.json``/``.npz`` and answers ``<i>`` on the pipe ``$GRADER_DONE_FD``. The line ``end``
ends it. So the student's code never sees an input before its call, and the grading process
measures from outside how long each call took.

Everything here runs with the student's code and may be tampered with by it: the grading
process trusts none of it and checks every result itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from . import protocol

CALL_SECONDS = int(os.environ.get("GRADER_CALL_SECONDS", "20"))


class CallTimeout(BaseException):
    """Raised by the alarm when one call runs too long (BaseException: hard to swallow)."""


def _alarm(signum, frame):  # noqa: ARG001
    raise CallTimeout()


def run_cells(cells: list[str], errors: list[str]) -> dict:
    """Run the cells in order in one namespace; collect each failing cell's error."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    for number, code in enumerate(cells, start=1):
        result = shell.run_cell(code, store_history=False)
        error = result.error_in_exec or result.error_before_exec
        if error is not None:
            errors.append(f"code cell {number}: {type(error).__name__}: {str(error)[:300]}")
    return shell.user_ns


def call_one(call: dict, ns: dict, hung: set[str]) -> dict:
    """Call the student's function as ``call`` says; the outcome as plain data."""
    name = call["func"]
    func = ns.get(name)
    if name in hung:
        return {"status": "timeout", "detail": f"not run: an earlier call of {name} ran out of time"}
    if not callable(func):
        return {"status": "missing", "detail": f"{name} is not defined (was its cell deleted?)"}
    try:
        signal.alarm(CALL_SECONDS)
        if call.get("keras"):  # a model check: the model goes back as JSON text (model_engine)
            from .model_engine import sandbox_call

            value = sandbox_call(call, ns)
        else:
            value = func(*call["args"], **call["kwargs"])
        signal.alarm(0)
        return {"status": "returned", "value": value}
    except CallTimeout:
        hung.add(name)
        return {"status": "timeout", "detail": f"{name} ran longer than {CALL_SECONDS} s"}
    except NotImplementedError:
        signal.alarm(0)
        return {"status": "not_implemented", "detail": f"{name} is not implemented yet"}
    except BaseException as exc:  # noqa: BLE001  (SystemExit and friends count as crashes)
        signal.alarm(0)
        return {"status": "raised", "detail": f"{type(exc).__name__}: {str(exc)[:500]}"}


def main() -> int:
    here = Path.cwd()
    main_pid = os.getpid()
    # the two channels to the grading process, taken before any student code runs
    commands = os.fdopen(os.dup(0), "r")
    done = os.dup(int(os.environ["GRADER_DONE_FD"]))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    def say(text: str) -> None:
        os.write(done, (text + "\n").encode())

    cells = json.loads((here / "cells.json").read_text())
    errors: list[str] = []
    ns = run_cells(cells, errors)
    if os.getpid() != main_pid:  # a process the student's cells forked: only the harness itself answers
        os._exit(0)
    (here / "cells_report.json").write_text(json.dumps(errors[:50]))
    signal.signal(signal.SIGALRM, _alarm)
    say("ready")
    hung: set[str] = set()
    for line in commands:
        if line.strip() == "end":
            break
        i = int(line)
        start = time.perf_counter()
        try:
            call = protocol.load(here / f"call_{i}.json")
        except protocol.ProtocolError as exc:
            result = {"status": "raised", "detail": f"the call could not be read: {exc}"[:500]}
        else:
            result = call_one(call, ns, hung)
        if os.getpid() != main_pid:  # forked inside the student's function
            os._exit(0)
        result["seconds"] = time.perf_counter() - start
        tmp = here / f".tmp_{i}.json"
        try:
            protocol.save(result, tmp)
        except Exception as exc:  # noqa: BLE001
            protocol.save({"status": "raised", "detail": f"result could not be saved: {exc}"[:500]}, tmp)
        os.replace(tmp.with_suffix(".npz"), here / f"result_{i}.npz")
        os.replace(tmp, here / f"result_{i}.json")
        say(str(i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
