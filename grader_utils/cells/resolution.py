"""Runs an ordinary nbgrader test cell in the grading process, with the student's names reached through the agent.

The test cell's source (the instructor's, from ``source/``: never the submission's) is executed here, in a
:class:`TestNamespace`: a namespace shared by the notebook's instructor cells and test cells, in which

* a name an instructor's read-only cell defined is the instructor's own value (those cells run here too);
* a name the student's cells define (the source's solution cells, or any name neither the instructor's cells
  nor Python's builtins define) is looked up in the kernel at each use, through a :class:`Session` with the
  agent (:mod:`agent`): a value comes back as plain data (:mod:`codec`), a function as a
  :class:`StudentFunction` whose calls cross the channel;
* ``name = value`` and ``del name`` on a student's name are mirrored in the kernel.

A value that is not plain data is *refused*: the test scores 0 whatever it catches (:class:`Refusal` is a
``BaseException`` and the session remembers it). The student's exception reaches the test cell as the same
built-in exception type with its message (:class:`StudentError` for the student's own exception classes), with
the student's traceback kept for the feedback. :func:`run_test` gives the :class:`Outcome` nbgrader would score:
an error 0; a last value that is a number, that share of the points; otherwise full points.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import linecache
import math
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from ..i18n import localize, tr
from . import channel, codec

__all__ = [
    "Outcome",
    "Refusal",
    "KernelGone",
    "StudentError",
    "Session",
    "StudentFunction",
    "TestNamespace",
    "run_test",
    "run_instructor_cell",
    "bound_names",
    "hidden_lines",
]

#: the largest reply the grading process reads from the agent
MAX_REPLY = codec.LIMITS.frame_bytes
#: seconds the agent has beyond a call's own alarm to answer
GRACE = 5.0
#: modules a test cell may receive by a student's name (``import numpy as np`` in a student's cell): the grading
#: process imports its own copy, never the kernel's
IMPORTABLE = frozenset(
    {"numpy", "scipy", "pandas", "matplotlib", "sklearn", "tensorflow", "keras", "sympy", "nose", "pytest"}
)


class Refusal(BaseException):
    """A value from the student's side that is not plain data (the test scores 0)."""


class KernelGone(BaseException):
    """The kernel did not answer in time, or the channel broke (the test scores 0)."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class StudentError(Exception):
    """An exception of the student's own class (or not a built-in Exception), as the test cell sees it."""


@dataclass
class Outcome:
    """What a test cell did: ``status`` is ``passed``, ``partial``, ``failed`` (an exception: 0 points),
    ``refused`` (a value that is not plain data), ``timeout``, ``crash`` (the channel broke) or ``error`` (the
    grader's own failure). ``score``: the points it gets. ``message``: the feedback (the failing
    assertion and its message, the student's traceback)."""

    status: str
    score: float
    message: str = ""
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ the session with the agent


class Session:
    """One test cell's conversation with the agent: requests and replies, within ``seconds`` of time spent
    waiting for the kernel (the instructor's own computations here do not count)."""

    def __init__(self, conn: Any, seconds: float) -> None:
        self.conn = conn
        self.seconds = seconds
        self.used = 0.0
        self.refused: list[str] = []
        self.gone: KernelGone | None = None

    def left(self) -> float:
        return self.seconds - self.used

    def request(self, request: dict) -> dict:
        if self.gone is not None:
            raise self.gone
        left = self.left()
        if left <= 0:
            self.gone = KernelGone(tr("the test cell ran out of time in your code"), timeout=True)
            raise self.gone
        try:
            frame = codec.encode(request, strict=True)
        except codec.CodecError as exc:  # the test cell's own value: the instructor's to fix, not a refusal
            raise TypeError(f"a test cell can pass only plain data to the student's code ({exc})") from None
        start = time.monotonic()
        try:
            channel.send(self.conn, frame, GRACE)
            answer = channel.receive(self.conn, left + GRACE, MAX_REPLY)
        except channel.ChannelTimeout:
            self.gone = KernelGone(tr("your code did not answer in time"), timeout=True)
            raise self.gone from None
        except channel.ChannelError as exc:
            self.gone = KernelGone(tr("the notebook's kernel stopped answering ({error})", error=exc))
            raise self.gone from None
        finally:
            self.used += time.monotonic() - start
        try:
            reply = codec.decode(answer)
        except codec.CodecError as exc:
            return self.refuse(tr("the kernel's answer could not be read ({error})", error=exc))
        if type(reply) is not dict or type(reply.get("ok")) is not str:
            return self.refuse(tr("the kernel's answer was not a record"))
        if reply["ok"] == "refused":
            return self.refuse(str(reply.get("message", ""))[:300])
        if reply["ok"] == "timeout":
            self.gone = KernelGone(tr("your code ran out of time"), timeout=True)
            raise self.gone
        return reply

    def refuse(self, description: str) -> Any:
        self.refused.append(description)
        raise Refusal(description)

    def done(self) -> None:
        if self.gone is None:
            try:
                channel.send(self.conn, codec.encode({"op": "done"}), GRACE)
            except channel.ChannelError:
                pass


class StudentFunction:
    """A student's function, called through the agent. Its arguments must be plain data (or student functions);
    its value comes back as plain data, its exception as the same built-in type with the student's message."""

    __slots__ = ("handle", "name", "space")

    def __init__(self, handle: codec.Handle, space: TestNamespace) -> None:
        self.handle = handle
        self.name = handle.name
        self.space = space

    def __repr__(self) -> str:
        return f"<your function {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        session = self.space.session
        if session is None:
            raise RuntimeError(f"{self.name} can only be called while a test cell runs")
        try:
            request = {
                "op": "call",
                "handle": self.handle.id,
                "args": _outgoing(list(args)),
                "kwargs": _outgoing(kwargs),
                "seconds": max(1, math.ceil(session.left())),
            }
        except TypeError as exc:
            raise TypeError(f"{self.name}: {exc}") from None
        reply = session.request(request)
        if reply["ok"] == "raised":
            raise _student_exception(reply)
        if reply["ok"] != "value":
            raise RuntimeError(f"{self.name}: {str(reply.get('message', reply['ok']))[:200]}")
        return self.space.incoming(reply.get("value"), f"{self.name}(...)")


def _outgoing(value: Any) -> Any:
    """Test-cell values on their way to the kernel: student functions become their handles; anything else must
    be plain data (TypeError otherwise: an instructor's object cannot enter the student's process)."""
    if isinstance(value, StudentFunction):
        return value.handle
    kind = type(value)
    if kind is list:
        return [_outgoing(v) for v in value]
    if kind is tuple:
        return tuple(_outgoing(v) for v in value)
    if kind is dict:
        return {k: _outgoing(v) for k, v in value.items()}
    return value


def _student_exception(reply: dict) -> BaseException:
    name, message = str(reply.get("type", "Exception"))[:100], str(reply.get("message", ""))[:2000]
    base = str(reply.get("base", ""))[:100]
    cls = getattr(builtins, base, None)
    text = message if reply.get("builtin") is True else (f"{name}: {message}" if message else name)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
        # the built-in type itself (or the one the student's own class derives from), with the student's message
        try:
            exc: BaseException = cls(text) if text else cls()
        except Exception:  # noqa: BLE001  (e.g. UnicodeDecodeError wants five arguments)
            exc = StudentError(f"{name}: {message}")
    else:
        exc = StudentError(f"{name}: {message}" if message else name)
    exc.student_traceback = str(reply.get("traceback", ""))[-4000:]  # type: ignore[attr-defined]
    return exc


# ------------------------------------------------------------------ the namespace


class TestNamespace(dict):
    """The namespace of a notebook's instructor cells and test cells (see the module docstring). ``student``:
    the names the student's cells own."""

    __test__ = False  # not a pytest class

    def __init__(self, student: set[str] | None = None) -> None:
        super().__init__()
        self.student = set(student or ())
        self.session: Session | None = None
        self.output = io.StringIO()
        dict.__setitem__(self, "__builtins__", builtins.__dict__)
        dict.__setitem__(self, "__name__", "__main__")
        dict.__setitem__(self, "print", self._print)

    def _print(self, *args: Any, **kwargs: Any) -> None:
        """The cells' own print: kept (up to 64 KiB), not written to the grading process's output."""
        kwargs.pop("file", None)
        if self.output.tell() < 64 * 1024:
            print(*args, **kwargs, file=self.output)

    # the student's names go to the kernel; the rest is this dict's
    def _students(self, name: str) -> bool:
        if name in self.student:
            return True
        return not dict.__contains__(self, name) and not hasattr(builtins, name) and not name.startswith("__")

    def __getitem__(self, name: str) -> Any:
        if not self._students(name) or self.session is None:
            return dict.__getitem__(self, name)
        reply = self.session.request({"op": "get", "name": name})
        if reply["ok"] == "missing":
            raise KeyError(name)
        self.student.add(name)
        if reply["ok"] == "module":
            return self._module(str(reply.get("name", "")), name)
        if reply["ok"] != "value":
            raise RuntimeError(f"{name}: {str(reply.get('message', reply['ok']))[:200]}")
        return self.incoming(reply.get("value"), name)

    def __setitem__(self, name: str, value: Any) -> None:
        if name in self.student and self.session is not None:
            if isinstance(value, StudentFunction) or _plain(value):
                self.session.request({"op": "set", "name": name, "value": _outgoing(value)})
                return
            raise TypeError(
                f"a test cell cannot give the student's name {name!r} a {type(value).__name__}: only plain data "
                "or the student's own functions cross into the student's kernel"
            )
        dict.__setitem__(self, name, value)

    def __delitem__(self, name: str) -> None:
        if name in self.student and self.session is not None:
            reply = self.session.request({"op": "del", "name": name})
            if reply["ok"] == "missing":
                raise KeyError(name)
            return
        dict.__delitem__(self, name)

    def incoming(self, value: Any, what: str) -> Any:
        """A decoded value from the kernel, for the test: handles become :class:`StudentFunction`, models are
        rebuilt in Keras' safe mode, a refusal stops the test."""
        if isinstance(value, codec.Refused):
            assert self.session is not None
            self.session.refuse(tr("{call} gave {what}", call=what, what=localize(value.description)))
        if isinstance(value, codec.Handle):
            return StudentFunction(value, self)
        if isinstance(value, codec.Model):
            return _model(value, what, self)
        kind = type(value)
        if kind is list:
            return [self.incoming(v, what) for v in value]
        if kind is tuple:
            return tuple(self.incoming(v, what) for v in value)
        if kind is dict:
            return {k: self.incoming(v, what) for k, v in value.items()}
        if kind in (set, frozenset):
            return kind(self.incoming(v, what) for v in value)
        return value

    def _module(self, module: str, name: str) -> Any:
        top = module.split(".")[0]
        if top in IMPORTABLE or top in sys.stdlib_module_names:
            return importlib.import_module(module)
        assert self.session is not None
        return self.session.refuse(
            tr("{name} is the module {module}, which the grader does not import", name=name, module=module[:80])
        )


def _plain(value: Any) -> bool:
    try:
        codec.encode(_outgoing(value), strict=True)
    except (codec.CodecError, TypeError):
        return False
    return True


def _model(value: codec.Model, what: str, space: TestNamespace) -> Any:
    from ..judge.model_verdicts import rebuild

    try:
        return rebuild(value.json)
    except ValueError as exc:
        assert space.session is not None
        return space.session.refuse(
            tr("{call} gave a Keras model the grader does not rebuild: {error}", call=what, error=exc)
        )


# ------------------------------------------------------------------ running cells


def bound_names(source: str) -> set[str]:
    """The names a cell binds at its top level (assignments, definitions, imports; none if it does not parse)."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) else [node]:
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(sub.name)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in sub.names if a.name != "*")
    return names


def hidden_lines(source: str) -> set[int]:
    """Line numbers (1-based) between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, markers included."""
    lines, hidden = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        if hidden:
            lines.add(number)
        if "### END HIDDEN TESTS" in line:
            hidden = False
    return lines


def _python(source: str) -> str:
    """The cell as Python (IPython's magics and ``!`` lines become calls, as IPython runs them)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


_CELLS = 0
_LOCK = threading.Lock()


def _compile(source: str, label: str) -> tuple[Any, Any, str]:
    """(body code, last expression's code or None, file name) of a cell; SyntaxError as Python gives it."""
    global _CELLS
    with _LOCK:
        _CELLS += 1
        filename = f"<{label} {_CELLS}>"
    text = _python(source)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    tree = ast.parse(text, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        expr = tree.body.pop()
        assert isinstance(expr, ast.Expr)
        last = compile(ast.Expression(expr.value), filename, "eval")
    return compile(tree, filename, "exec"), last, filename


def run_instructor_cell(source: str, space: TestNamespace) -> str:
    """Run one of the instructor's read-only cells here; '' or what went wrong (its names then stay undefined)."""
    try:
        body, last, _ = _compile(source, "instructor cell")
        exec(body, space)  # noqa: S102  (the instructor's code: trusted, as the issue's principle says)
        if last is not None:
            eval(last, space)  # noqa: S307
    except (Refusal, KernelGone):
        raise
    except BaseException as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return ""


def run_test(source: str, space: TestNamespace, points: float = 1.0, label: str = "test cell") -> Outcome:
    """Run a test cell worth ``points`` in ``space`` (its session already open) and score it as nbgrader would."""
    hidden = hidden_lines(source)
    session = space.session
    try:
        body, last, filename = _compile(source, label)
    except SyntaxError as exc:
        return Outcome("error", 0.0, tr("the test cell does not compile: {error}", error=exc))
    value = None
    try:
        exec(body, space)  # noqa: S102
        if last is not None:
            value = eval(last, space)  # noqa: S307
    except KernelGone as exc:
        return Outcome("timeout" if exc.timeout else "crash", 0.0, str(exc))
    except Refusal:
        pass
    except BaseException as exc:  # noqa: BLE001  (an assertion, the student's exception, anything: 0 points)
        if session is not None and session.refused:
            pass
        elif session is not None and session.gone is not None:
            return Outcome("timeout" if session.gone.timeout else "crash", 0.0, str(session.gone))
        else:
            return Outcome("failed", 0.0, _feedback(exc, filename, hidden))
    if session is not None and session.gone is not None:  # a test that swallowed it
        return Outcome("timeout" if session.gone.timeout else "crash", 0.0, str(session.gone))
    if session is not None and session.refused:
        return Outcome(
            "refused",
            0.0,
            tr(
                "your code gave a value that is not plain data, so the test could not use it: {what}",
                what=session.refused[0],
            ),
        )
    if isinstance(value, (int, float)) and type(value) in (int, float):
        # nbgrader's partial credit (utils.get_partial_grade): a number from 0 to the points is the score, a
        # negative one full points, one above the points an error; a value whose text is not a number: full
        share = float(value)
        if math.isfinite(share) and 0 <= share <= points:
            return Outcome("partial" if share < points else "passed", share, "")
        if math.isfinite(share) and share > points:
            return Outcome(
                "error",
                0.0,
                tr("the test cell's score {score:g} is above its {points:g} points", score=share, points=points),
            )
    return Outcome("passed", points, "")


def _feedback(exc: BaseException, filename: str, hidden: set[int]) -> str:
    """The failing line of the test (unless hidden), the exception and its message, the student's traceback."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    head = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, StudentError):
        head = str(exc)
    parts = []
    if line is not None and line in hidden:
        parts.append(tr("a hidden test failed"))
    elif line is not None:
        text = linecache.getline(filename, line).strip()
        parts.append(tr("line {line} of the test: {text}", line=line, text=text)[:500])
    parts.append(head[:2000])
    student = getattr(exc, "student_traceback", "")
    if student:
        parts.append(tr("your code raised it:") + "\n" + student)
    return "\n".join(parts)
