"""The agent: runs in the student's sandboxed kernel while a test cell is graded, and serves the grading process.

At each ordinary test cell the grading process runs, in the kernel, ``__import__('grader_utils.cells.agent')
.cells.agent.serve('/k-.../probe/agent.sock', '<token>')``. The agent connects to the grading process's socket
(:mod:`channel`), says the token, and answers requests until the grading process says ``done``:

* ``get`` a name of the student's namespace: its value as plain data (:mod:`codec`), a *handle* when it is
  callable (a student function, kept here in a table), a module's name, ``missing`` when it is not defined;
* ``call`` a handle with arguments (plain data, or handles of the student's functions), with an alarm of the
  seconds the grading process grants: the value returned, or the exception raised (its type's name, the
  built-in class it derives from, its message and the traceback of the student's frames);
* ``set`` a name to a value or to a handle's function, ``del`` a name: what a test cell does to the student's
  names, mirrored here so that the student's other functions see it.

Nothing here judges, and nothing here is trusted: the student's code runs in this process and may replace any of
it; the grading process checks everything it receives.
"""

from __future__ import annotations

import builtins
import signal
import sys
import traceback
from typing import Any

from . import channel, codec

__all__ = ["Agent", "serve"]

#: the largest request the agent reads
MAX_REQUEST = codec.LIMITS.frame_bytes


class CallTimeout(BaseException):
    """The alarm of one call (BaseException: hard for the student's code to swallow)."""


def _alarm(signum: int, frame: Any) -> None:  # noqa: ARG001
    raise CallTimeout()


class Agent:
    """Answers the grading process's requests against the namespace ``ns`` (the kernel's user namespace)."""

    def __init__(self, ns: dict) -> None:
        self.ns = ns
        self.handles: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(function) -> handle (one handle per function)

    def handle(self, func: Any, name: str) -> codec.Handle:
        key = id(func)
        if key not in self.ids:
            self.ids[key] = len(self.handles) + 1
            self.handles[self.ids[key]] = func
        return codec.Handle(self.ids[key], name)

    def outgoing(self, value: Any, name: str = "") -> Any:
        """A value about to leave: a callable becomes a handle; anything else as it is (the codec refuses what
        is not plain data)."""
        if callable(value) and not isinstance(value, type):
            return self.handle(value, name or str(getattr(value, "__name__", "")))
        return value

    def incoming(self, value: Any) -> Any:
        """A value from the grading process: handles become the student's functions again (inside lists,
        tuples and dicts too)."""
        if isinstance(value, codec.Handle):
            if value.id not in self.handles:
                raise KeyError(f"unknown handle {value.id}")
            return self.handles[value.id]
        if type(value) is list:
            return [self.incoming(v) for v in value]
        if type(value) is tuple:
            return tuple(self.incoming(v) for v in value)
        if type(value) is dict:
            return {k: self.incoming(v) for k, v in value.items()}
        return value

    def answer(self, request: Any) -> dict:
        """The reply to one request (a dict), as plain data."""
        op = request.get("op") if type(request) is dict else None
        name = str(request.get("name", "")) if type(request) is dict else ""
        if op == "get":
            if name not in self.ns:
                return {"ok": "missing"}
            value = self.ns[name]
            if isinstance(value, type(sys)):  # a module the student imported: the grading process imports its own
                return {"ok": "module", "name": str(getattr(value, "__name__", ""))[:200]}
            return {"ok": "value", "value": self.outgoing(value, name)}
        if op == "set":
            self.ns[name] = self.incoming(request.get("value"))
            return {"ok": "done"}
        if op == "del":
            if name not in self.ns:
                return {"ok": "missing"}
            del self.ns[name]
            return {"ok": "done"}
        if op == "call":
            return self.call(request)
        return {"ok": "error", "message": f"unknown request {str(op)[:40]!r}"}

    def call(self, request: dict) -> dict:
        func = self.handles.get(request.get("handle"))  # type: ignore[arg-type]
        if func is None:
            return {"ok": "error", "message": "unknown function"}
        args = self.incoming(request.get("args", []))
        kwargs = self.incoming(request.get("kwargs", {}))
        seconds = max(1, int(request.get("seconds", 30)))
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(seconds)
        try:
            value = func(*args, **kwargs)
            signal.alarm(0)
        except CallTimeout:
            return {"ok": "timeout", "seconds": seconds}
        except BaseException as exc:  # noqa: BLE001  (the student's exception goes to the test cell)
            signal.alarm(0)
            return _raised(exc)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        return {"ok": "value", "value": self.outgoing(value)}


def _raised(exc: BaseException) -> dict:
    kind = type(exc)
    builtin = getattr(builtins, kind.__name__, None) is kind
    # the nearest built-in class it derives from: a test's ``except ValueError`` catches the student's subclass
    base = next((c.__name__ for c in kind.__mro__ if getattr(builtins, c.__name__, None) is c), "BaseException")
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # not the agent's own frame
    try:
        text = "".join(traceback.format_exception(kind, exc, tb))
    except Exception:  # noqa: BLE001
        text = f"{kind.__name__}"
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = ""
    return {
        "ok": "raised",
        "type": str(kind.__name__)[:100],
        "builtin": builtin,
        "base": str(base)[:100],
        "message": message[:2000],
        "traceback": text[-4000:],
    }


def _reply(agent: Agent, request: Any) -> bytes:
    try:
        return codec.encode(agent.answer(request))
    except codec.CodecError as exc:
        return codec.encode({"ok": "refused", "message": str(exc)[:300]})
    except Exception as exc:  # noqa: BLE001
        return codec.encode({"ok": "error", "message": f"{type(exc).__name__}: {str(exc)[:300]}"})


#: the agent of this kernel (its handles live as long as the kernel)
_AGENT: list[Agent] = []


def serve(path: str, token: str, ns: dict | None = None) -> None:
    """Connect to the grading process at ``path`` and answer its requests, against ``ns`` (default: the IPython
    kernel's user namespace), until it says ``done`` or goes away."""
    if ns is None:
        from IPython import get_ipython

        shell = get_ipython()
        ns = shell.user_ns if shell is not None else {}
    if not _AGENT or _AGENT[0].ns is not ns:
        _AGENT[:] = [Agent(ns)]
    agent = _AGENT[0]
    conn = channel.connect(path)
    try:
        channel.send(conn, token.encode())
        while True:
            try:
                frame = channel.receive(conn, None, MAX_REQUEST)
            except channel.ChannelError:
                return
            try:
                request = codec.decode(frame)
            except codec.CodecError as exc:
                channel.send(conn, codec.encode({"ok": "error", "message": str(exc)[:300]}))
                continue
            if type(request) is dict and request.get("op") == "done":
                return
            channel.send(conn, _reply(agent, request))
    finally:
        conn.close()
