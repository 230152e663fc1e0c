"""sandbox/probe.py: one call of a student's function, its outcome as plain data whatever the function does
(returns, is missing, not implemented, raises, exits, runs out of time), and the result files it writes."""

from __future__ import annotations

import time

import numpy as np

from grader_utils.grading.probes import _Probes
from grader_utils.sandbox import probe


def _call(name: str, *args, **kwargs) -> dict:
    return {"func": name, "args": list(args), "kwargs": kwargs}


def test_each_outcome_of_a_call_is_plain_data():
    def not_yet(x):
        raise NotImplementedError()

    def leaves(x):
        raise SystemExit(3)

    def breaks(x):
        return x[10]

    ns = {"double": lambda x: 2 * x, "not_yet": not_yet, "leaves": leaves, "breaks": breaks, "text": "not callable"}
    hung: set[str] = set()
    assert probe.call_one(_call("double", np.ones(2)), ns, hung)["status"] == "returned"
    assert np.array_equal(probe.call_one(_call("double", np.ones(2)), ns, hung)["value"], 2 * np.ones(2))
    assert probe.call_one(_call("absent", 1), ns, hung) == {
        "status": "missing",
        "detail": "absent is not defined (was its cell deleted?)",
    }
    assert probe.call_one(_call("text"), ns, hung)["status"] == "missing"
    assert probe.call_one(_call("not_yet", 1), ns, hung)["status"] == "not_implemented"
    assert probe.call_one(_call("leaves", 1), ns, hung) == {"status": "raised", "detail": "SystemExit: 3"}
    assert probe.call_one(_call("breaks", [1]), ns, hung)["detail"].startswith("IndexError: ")
    assert hung == set()


def test_a_call_past_its_time_is_stopped_and_the_function_not_called_again():
    calls = []

    def slow(x):
        calls.append(x)
        time.sleep(30)

    hung: set[str] = set()
    start = time.monotonic()
    first = probe.call_one(_call("slow", 1), {"slow": slow}, hung, seconds=1)
    assert first == {"status": "timeout", "detail": "slow ran longer than 1 s"} and time.monotonic() - start < 10
    second = probe.call_one(_call("slow", 2), {"slow": slow}, hung, seconds=1)
    assert second["status"] == "timeout" and "not run" in second["detail"] and calls == [1] and hung == {"slow"}


def test_run_reads_the_call_and_writes_its_result(tmp_path):
    """Outside a kernel there is no namespace: the function is missing, and the result says so with its time."""
    folder = _Probes(tmp_path)
    try:
        folder.put_call(0, _call("conv2d", np.zeros((2, 2), np.float32)))
        probe.run_many([0], str(tmp_path), 5)
        result = folder.result(0)
    finally:
        folder.close()
    assert result["status"] == "missing" and 0 <= result["seconds"] < 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call_0.json", "call_0.npz", "result_0.json", "result_0.npz"]


def test_an_unreadable_call_is_answered_not_obeyed(tmp_path):
    (tmp_path / "call_1.json").write_text('{"func": "x", "__pickle__": "..."')
    probe.run(1, str(tmp_path), 5)
    folder = _Probes(tmp_path)
    try:
        result = folder.result(1)
    finally:
        folder.close()
    assert result["status"] == "raised" and result["detail"].startswith("the call could not be read")
