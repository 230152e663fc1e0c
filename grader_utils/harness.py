"""Runs inside the sandbox: the student's cells, then the calls the grader asks for.

Usage (cwd = the scratch folder): ``python -m grader_utils.harness``. Reads
``cells.json`` (the student's code cells, in order) and ``calls.json`` +
``calls.npz`` (``[{"func": name, "args": [...], "kwargs": {...}}, ...]`` in
:mod:`protocol` form). Runs the cells in one IPython namespace (errors are
printed and the next cell runs, as in a notebook), then each call with a time
limit, writing ``result_<i>.json``/``.npz`` as soon as the call returns, so a
later hang or crash loses nothing that came before.

Everything here runs with the student's code and may be tampered with by it: the
grading process trusts none of it and checks every result itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from . import protocol
from .native_lock import refusal_in
from .numpy_only import call_numpy_only  # imported before the student's cells run

_COUNTER_CODE = call_numpy_only.__code__

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


def main() -> int:
    here = Path.cwd()
    main_pid = os.getpid()
    cells = json.loads((here / "cells.json").read_text())
    calls = protocol.load(here / "calls.json")
    errors: list[str] = []
    if os.environ.get("GRADER_NUMPY_ONLY") == "1":  # no native code but NumPy's and the stdlib's from here on
        from IPython.core.interactiveshell import InteractiveShell  # noqa: F401  (loaded before the lock)

        from .native_lock import lock

        lock()  # raises when it cannot lock: no student code runs, the engine records a crash
    ns = run_cells(cells, errors)
    if os.getpid() != main_pid:  # a process the student's cells forked: only the harness itself answers
        os._exit(0)
    (here / "cells_report.json").write_text(json.dumps(errors[:50]))
    signal.signal(signal.SIGALRM, _alarm)
    hung: set[str] = set()
    for i, call in enumerate(calls):
        name = call["func"]
        func = ns.get(name)
        start = time.perf_counter()
        if name in hung:
            result = {"status": "timeout", "detail": f"not run: an earlier call of {name} ran out of time"}
        elif not callable(func):
            result = {"status": "missing", "detail": f"{name} is not defined (was its cell deleted?)"}
        else:
            try:
                signal.alarm(CALL_SECONDS)
                if call.get("keras"):  # a model check: the model goes back as JSON text (model_engine)
                    from .model_engine import sandbox_call

                    value = sandbox_call(call, ns)
                elif call.get("count_calls"):  # how the code runs: function calls counted by a profile hook
                    value, report = call_numpy_only(func, *call["args"], **call["kwargs"])
                    tampered = report.tampered or call_numpy_only.__code__ is not _COUNTER_CODE
                    signal.alarm(0)
                    result = {"status": "returned",
                              "value": {"value": value, "calls": int(report.calls), "tampered": bool(tampered)}}
                else:
                    value = func(*call["args"], **call["kwargs"])
                signal.alarm(0)
                if not call.get("count_calls"):
                    result = {"status": "returned", "value": value}
            except CallTimeout:
                hung.add(name)
                result = {"status": "timeout", "detail": f"{name} ran longer than {CALL_SECONDS} s"}
            except NotImplementedError:
                signal.alarm(0)
                result = {"status": "not_implemented", "detail": f"{name} is not implemented yet"}
            except BaseException as exc:  # noqa: BLE001  (SystemExit and friends count as crashes)
                signal.alarm(0)
                result = {"status": "raised", "detail": f"{type(exc).__name__}: {str(exc)[:500]}" + refusal_in(exc)}
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
