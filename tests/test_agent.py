"""cells/agent.py: the kernel side answers get/call/set/del with plain data, handles for functions, the student's
exceptions as (type, built-in base, message, traceback), an alarm per call; it judges nothing."""

from __future__ import annotations

from pathlib import Path

from cells_student import student
from grader_utils.cells import agent, codec


def _agent(code: str) -> agent.Agent:
    ns: dict = {}
    exec(code, ns)  # noqa: S102
    return agent.Agent(ns)


def test_get_returns_values_handles_modules_and_missing():
    a = _agent("import math\nx = [1, (2, 3)]\ndef f(y):\n    return y + 1\n")
    assert a.answer({"op": "get", "name": "x"}) == {"ok": "value", "value": [1, (2, 3)]}
    reply = a.answer({"op": "get", "name": "f"})
    assert reply["ok"] == "value" and reply["value"] == codec.Handle(1, "f")
    assert a.answer({"op": "get", "name": "f"})["value"].id == 1  # one handle per function
    assert a.answer({"op": "get", "name": "math"}) == {"ok": "module", "name": "math"}
    assert a.answer({"op": "get", "name": "nope"}) == {"ok": "missing"}


def test_call_set_and_del():
    a = _agent("k = 2\ndef f(y):\n    return y * k\n")
    h = a.answer({"op": "get", "name": "f"})["value"]
    assert a.answer({"op": "call", "handle": h.id, "args": [3], "kwargs": {}}) == {"ok": "value", "value": 6}
    assert a.answer({"op": "set", "name": "k", "value": 10}) == {"ok": "done"}
    assert a.answer({"op": "call", "handle": h.id, "args": [3], "kwargs": {}})["value"] == 30
    assert a.answer({"op": "set", "name": "g", "value": h}) == {"ok": "done"} and a.ns["g"] is a.ns["f"]
    assert a.answer({"op": "del", "name": "k"}) == {"ok": "done"} and "k" not in a.ns
    assert a.answer({"op": "del", "name": "k"}) == {"ok": "missing"}
    assert a.answer({"op": "call", "handle": 99})["ok"] == "error"
    assert a.answer({"op": "nonsense"})["ok"] == "error"


def test_an_exception_is_its_type_base_message_and_the_students_frames():
    a = _agent("class Mine(KeyError):\n    pass\ndef f():\n    raise Mine('boom')\n")
    h = a.answer({"op": "get", "name": "f"})["value"]
    reply = a.answer({"op": "call", "handle": h.id, "args": [], "kwargs": {}})
    assert reply["ok"] == "raised" and reply["type"] == "Mine" and reply["base"] == "KeyError"
    assert reply["builtin"] is False and "boom" in reply["message"]
    assert "in f" in reply["traceback"] and "agent.py" not in reply["traceback"]


def test_a_call_past_its_alarm_is_a_timeout():
    a = _agent("def f():\n    while True:\n        pass\n")
    h = a.answer({"op": "get", "name": "f"})["value"]
    assert a.answer({"op": "call", "handle": h.id, "args": [], "kwargs": {}, "seconds": 1})["ok"] == "timeout"


def test_a_keras_like_model_would_go_as_a_callable_handle_not_an_object():
    a = _agent("class Gen:\n    def __call__(self):\n        return 1\ng = Gen()\n")
    assert isinstance(a.answer({"op": "get", "name": "g"})["value"], codec.Handle)


def test_a_value_past_the_caps_is_a_refusal_reply():
    a = _agent("x = 'y' * (65 * 1024**2)")
    reply = codec.decode(agent._reply(a, {"op": "get", "name": "x"}))
    assert reply["ok"] == "refused"


def test_serve_answers_over_the_socket_until_done(tmp_path: Path):
    with student("x = 5", tmp_path) as session:
        assert session.request({"op": "get", "name": "x"}) == {"ok": "value", "value": 5}
