"""The engine's plan for one notebook: which calls to make in the sandbox, on which inputs, under which time rules.

:func:`_plan` reads the checks of the *instructor's* test cells (:class:`TestSpec`) and turns each into
calls of the student's functions (plain-data requests ``{"func", "args", "kwargs"}``, one per case) and,
per test cell, its cases (:class:`_Item`) with the verdict that judges them. Calls written inside a
hidden-test region take their inputs from the course secret (:func:`hidden_seed`), mixed with the
student, the notebook's code and every file of the submission (:func:`submission_digest`): inputs a
student saw (printed, leaked) in one graded run are worth nothing in any other submission, theirs or
anyone's. A timed case (``conv2d_fast`` on large inputs) is called up to twice, each time on an input
never seen before (the second :func:`fresh_input`: the same shapes, new values, so an answer cached from
the first call is wrong for it), the faster call counting when every call is right
(:func:`second_try_needed`), each call under an alarm (:func:`timed_call_seconds`); timed inputs come from
the course secret even in a visible test. What the grading process saw of the calls is kept in a
:class:`CallLog`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..judge import timing
from ..judge.case import Case
from ..judge.cases import suite_cases
from ..judge.compare import CheckResult
from ..judge.registry import ARRAY_EXERCISES, MODEL_EXERCISES
from .specs import TestSpec

__all__ = [
    "GradingError",
    "CallLog",
    "hidden_seed",
    "submission_digest",
    "fresh_input",
    "folder_digest",
    "second_try_needed",
    "timed_call_seconds",
    "TIMED_ALARM_FACTOR",
]


class GradingError(RuntimeError):
    """The grading process itself could not judge a submission (a verdict raised, Keras failed...).
    Never a score: the caller records the submission as failed with 0 points."""


def folder_digest(folder: Path) -> str:
    """SHA-256 over every regular file under ``folder`` (sorted relative paths, sizes and contents): any
    byte added, removed or changed anywhere in a submission changes it. Links and other entries are
    named but not followed (the grader refuses a submission holding them before it plans)."""
    h = hashlib.sha256()
    root = Path(folder)
    entries: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
            path = Path(dirpath, name)
            entries.append((path.relative_to(root).as_posix(), path))
    for rel, path in sorted(entries):
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if path.is_symlink() or not path.is_file():
            h.update(b"not a regular file\0")
            continue
        h.update(str(path.stat().st_size).encode() + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def submission_digest(cells: list[str], student: str = "", folder: Path | None = None) -> str:
    """A fingerprint of one submission: the student, the notebook's code cells and every file of the
    submission folder (:func:`folder_digest`, which covers the notebook itself and any data file beside
    it). Hidden inputs change with any of them, so inputs seen in one graded run are worth nothing in the
    next submission (a data file of answers added to the same notebook changes the inputs it would
    answer), and two students who hand in identical folders get different inputs."""
    h = hashlib.sha256()
    h.update(b"student\0" + student.encode("utf-8", "replace") + b"\0")
    for cell in cells:
        h.update(cell.encode("utf-8", "replace"))
        h.update(b"\0")
    if folder is not None and Path(folder).is_dir():
        h.update(b"folder\0" + folder_digest(Path(folder)).encode())
    return h.hexdigest()


def hidden_seed(secret: bytes, context: str, grade_id: str, check: str, seed: int, digest: str) -> int:
    """The seed of a hidden suite: HMAC-SHA256 of the course secret over where the test is and what
    code it grades. The same secret and the same submission give the same inputs (regrades are
    reproducible); without the secret they cannot be predicted."""
    message = "\x1f".join([context, grade_id, check, str(seed), digest]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")


def _derived(seed: int, k: int) -> int:
    """The seed of the fresh input of case ``k`` of a suite seeded ``seed`` (the same on every regrade)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{k}:again".encode()).digest()[:8], "big")


def fresh_input(case: Case, seed: int) -> Case:
    """``case`` with every floating-point array replaced by new values of the same shape, dtype, mean and
    spread (from ``seed``): the same work for the student's function, an answer nobody has computed yet."""
    rng = np.random.default_rng(seed)

    def fresh(value: Any) -> Any:
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating) and value.size:
            spread = float(value.std()) or 1.0
            values = float(value.mean()) + spread * np.asarray(rng.standard_normal(value.shape))
            return values.astype(value.dtype)
        return value

    return Case(tuple(fresh(a) for a in case.args), {k: fresh(v) for k, v in case.kwargs.items()})


def _rule_broken(name: str, case: Case, seconds: float, limit: float, finished: bool = True) -> CheckResult:
    """The verdict on a timed call slower than its limit (``finished`` False: stopped by its alarm after
    ``seconds``)."""
    return CheckResult(
        False,
        limit,
        seconds if finished else None,
        timing.slow_message(name, seconds, case, limit, finished=finished),
        {"problem": "rule"},
    )


def _timed_verdict(
    name: str, verdict: Callable[[Case, Any], CheckResult]
) -> Callable[[Case, Any, float, float], CheckResult]:
    """The verdict of a suite that is also timed (``conv2d_fast`` on large inputs): the seconds are
    measured by the grading process, from the moment the call's input exists until its answer does;
    the limit is the case's, measured once (:meth:`_Item.time_limit`)."""

    def judge(case: Case, value: Any, seconds: float, limit: float) -> CheckResult:
        result = verdict(case, value)
        if result.passed and seconds > limit:
            return _rule_broken(name, case, seconds, limit)
        return result

    return judge


#: a timed call runs for at most this many times its limit: beyond it, it has failed the rule anyway
TIMED_ALARM_FACTOR = 3


def timed_call_seconds(limit: float, call_seconds: float) -> int:
    """The alarm of a timed call whose time limit is ``limit`` (:func:`timing.time_limit`): long enough
    to measure any answer that could pass (three times the limit, at least 2 s), short enough that a
    loop over a million pixels costs the class's grading a few seconds rather than ``call_seconds``."""
    return int(min(call_seconds, max(2, math.ceil(TIMED_ALARM_FACTOR * limit))))


def _too_slow(func: str, item: _Item, log: CallLog, made: list[int]) -> CheckResult:
    """The verdict on a timed call that ran out of its alarm: the time rule is broken."""
    alarm = max(log.alarms.get(i, int(log.call_seconds)) for i in made)
    return _rule_broken(func, item.case, alarm, item.time_limit(), finished=False)


def second_try_needed(limit: float, seconds: float) -> bool:
    """Whether a timed case whose first call took ``seconds`` (measured from outside) is worth a
    second call, of which the faster counts: not when the first is well inside every possible limit
    (under half of :data:`timing.TIME_FLOOR`), nor when it took over twice the limit (a loop over
    pixels, which takes seconds per call: a second try would only cost the class's grading time)."""
    if seconds < timing.TIME_FLOOR / 2:
        return False
    return seconds <= 2 * limit


@dataclass
class CallLog:
    """What the grading process saw of the calls it made: how long each took (measured from
    outside, from the moment its input existed until its answer did) and which ran out of time."""

    call_seconds: float = 20.0
    elapsed: dict[int, float] = field(default_factory=dict)
    timeouts: set[int] = field(default_factory=set)
    #: calls the grading process chose not to make: a timed case's second try when the first one
    #: already settles the verdict (see :func:`second_try_needed`)
    skipped: set[int] = field(default_factory=set)
    #: the alarm of a call when it is not ``call_seconds`` (timed calls: :func:`timed_call_seconds`)
    alarms: dict[int, int] = field(default_factory=dict)


@dataclass
class _Item:
    """One case of a test cell: the calls made for it (a timed case is called up to twice and the
    faster call counts), and its verdict ``verdict(case, value)`` or, timed, ``(case, value, seconds)``."""

    indexes: list[int]
    case: Case
    verdict: Callable[..., CheckResult]
    timed: bool = False
    limit: float | None = None
    #: a timed case's input per call (``cases[k]`` is what call ``indexes[k]`` gets; the first is ``case``)
    cases: list[Case] = field(default_factory=list)

    def case_of(self, index: int) -> Case:
        """The input of call ``index`` (one of ``indexes``)."""
        return self.cases[self.indexes.index(index)] if self.cases else self.case

    def time_limit(self) -> float:
        """A timed case's limit (:func:`timing.time_limit`), measured once, in the grading process, and
        used for the call's alarm, the second try and the verdict alike."""
        if self.limit is None:
            self.limit = timing.time_limit(self.case)
        return self.limit


def _plan(
    specs: list[TestSpec], secret: bytes | None, context: str, digest: str
) -> tuple[list[dict], list[tuple[TestSpec, list[_Item]]]]:
    """The calls to make in the sandbox, in order, and per engine-graded test cell its cases."""
    calls: list[dict] = []
    plan: list[tuple[TestSpec, list[_Item]]] = []
    for spec in specs:
        if not spec.engine:
            continue
        items: list[_Item] = []
        for call in spec.calls:
            if call.model:
                planner = MODEL_EXERCISES[call.check].plan
                assert planner is not None
                for sandbox_call, model_verdict in planner(call.funcs, call.kwargs):
                    case = Case((), dict(sandbox_call.get("kwargs", {})))  # shown as the call made
                    items.append(_Item([len(calls)], case, lambda case, value, v=model_verdict: v(value)))
                    calls.append(sandbox_call)
                continue
            ex = ARRAY_EXERCISES[call.check]
            family, verdict = ex.family, ex.verdict
            if verdict is None:
                raise GradingError(f"{call.check} has no verdict in the exercise registry")
            timed = call.suite in ex.timed
            seed = call.seed
            if (call.hidden or timed) and secret is not None:  # a timed input is never one anyone has seen
                seed = hidden_seed(secret, context, spec.grade_id, call.check, call.seed, digest)
            for k, case in enumerate(suite_cases(family, call.suite, seed=seed, n=call.n)):
                # a timed case's second call gets an input of its own: a cached first answer is wrong for it
                cases = [case, fresh_input(case, _derived(seed, k))] if timed else [case]
                items.append(
                    _Item(
                        list(range(len(calls), len(calls) + len(cases))),
                        case,
                        _timed_verdict(call.func, verdict) if timed else verdict,
                        timed,
                        cases=cases if timed else [],
                    )
                )
                calls += [{"func": call.func, "args": list(c.args), "kwargs": dict(c.kwargs)} for c in cases]
        plan.append((spec, items))
    return calls, plan
