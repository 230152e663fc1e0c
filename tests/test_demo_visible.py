"""A demo student's mistake shows in the visible checks (issue #12, item 8).

For every exercise where a demo student (``demo/<assignment>/<student>.py``) fails a hidden suite,
the student's function also fails one of that exercise's visible suites: a student who sees PASSED
under an exercise does not lose its hidden points to a mistake the lesson already taught.

Everything runs in-process: the demo student's functions are defined the way
:func:`grader_utils.course.build_submission` puts them into the release notebook (the answered
solution cells replace the stubs, the notebook's helper functions such as ``to_pair`` are kept), and
each check call of the source notebook's test cells runs with the ``grader_utils.checks`` function it
names. Exercises are keyed by the function a check call tests, among the test cells of the student's
own assignment. The ``large`` suite is left out: it times ``conv2d_fast``, which no small visible
case can show.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from grader_utils import checks
from grader_utils.instructor.demo import read_answers
from grader_utils.judge.compare import CheckFailed
from grader_utils.judge.registry import ARRAY_EXERCISES

pytestmark = pytest.mark.keras

#: one check call in a test cell: check_x(func, "suite") or check_x(func, "suite", seed=N)
CALL = re.compile(r"^(check_\w+)\((\w+), \"(\w+)\"(?:, seed=(\d+))?\)\s*$", re.M)
#: suites that are about something other than the values (the time rule of conv2d_fast)
NOT_A_MISTAKE_SUITE = {"large"}


@dataclass(frozen=True)
class CheckCall:
    check: str  # a function of grader_utils.checks
    func: str  # the student's function it tests
    suite: str
    seed: int
    hidden: bool  # the call sits between BEGIN and END HIDDEN TESTS
    unit: str = ""  # where its verdicts are compared: its test cell when it holds visible and hidden calls, else func


def _test_cell_calls(nb_path: Path) -> list[CheckCall]:
    """The check calls of every graded test cell of a source notebook."""
    calls = []
    for cell in nbformat.read(nb_path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        visible, _, hidden_part = cell.source.partition("### BEGIN HIDDEN TESTS")
        found = [(c, True) for c in CALL.findall(hidden_part)] + [(c, False) for c in CALL.findall(visible)]
        # a test cell per feature holds both a visible check and its hidden test: judged on its own
        own = {hidden for _, hidden in found} == {True, False}
        for (check, func, suite, seed), hidden in found:
            if check in ARRAY_EXERCISES and suite not in NOT_A_MISTAKE_SUITE:
                unit = meta["grade_id"] if own else func
                calls.append(CheckCall(check, func, suite, int(seed or 0), hidden, unit))
    return calls


def _helper_cell(source: str) -> bool:
    """A code cell that only defines functions (like ``to_pair``) or imports."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for n in body)


def student_namespace(assignment: str, student: str) -> dict[str, Any]:
    """The names a demo student's release notebook defines, with the student's answers in it."""
    answers = read_answers(ROOT / "demo" / assignment / f"{student}.py")
    ns: dict[str, Any] = {"np": np, "math": math, "__name__": f"demo_{student}"}
    for nb_path in sorted((ROOT / "release" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("solution"):
                exec(answers.get(meta["grade_id"], cell.source), ns)
            elif not meta.get("grade") and _helper_cell(cell.source):
                exec(cell.source, ns)
    return ns


def passes(check: Callable[..., None], func: Any, suite: str, seed: int) -> bool:
    """True when the check prints PASSED; a wrong answer, an exception or a stub is a fail."""
    try:
        check(func, suite, seed=seed)
    except (CheckFailed, NotImplementedError):
        return False
    return True


def demo_students() -> list[tuple[str, str]]:
    """(assignment, student) for the assignments whose exercises are judged by grader_utils.checks
    (03's model checks train and judge whole models: not this test's business)."""
    judged = {p.parent.name for p in (ROOT / "source").glob("*/*.ipynb") if _test_cell_calls(p)}
    return sorted((p.parent.name, p.stem) for p in (ROOT / "demo").glob("*/*.py") if p.parent.name in judged)


def exercise_calls(assignment: str = "*") -> dict[str, list[CheckCall]]:
    """func -> its check calls, over the source notebooks of ``assignment`` (default: every one)."""
    by_func: dict[str, list[CheckCall]] = {}
    for nb_path in sorted((ROOT / "source").glob(f"{assignment}/*.ipynb")):
        for call in _test_cell_calls(nb_path):
            by_func.setdefault(call.func, []).append(call)
    return by_func


def verdicts(assignment: str, student: str) -> dict[str, dict[bool, list[bool]]]:
    """unit -> {hidden: [passed per call]} for the exercises graded in this assignment's notebooks (a function
    of an earlier assignment that a notebook only asks to paste in, as 04's ``conv2d``, is not graded here).
    A unit is a test cell that holds its own visible check (one cell per taught feature, issue #25 item 1:
    its hidden test may only fail where its visible check does), else the exercise's function."""
    ns = student_namespace(assignment, student)
    out: dict[str, dict[bool, list[bool]]] = {}
    for func, calls in exercise_calls(assignment).items():
        for call in calls:
            ok = passes(getattr(checks, call.check), ns[func], call.suite, call.seed)
            out.setdefault(call.unit, {True: [], False: []})[call.hidden].append(ok)
    return out


def test_the_notebooks_have_visible_and_hidden_checks_for_every_exercise():
    calls = exercise_calls()
    assert {
        "conv2d_output_shape",
        "pool2d_output_shape",
        "max_pool2d",
        "average_pool2d",
        "conv2d",
        "sequential_output_shapes",
        "sequential_param_counts",
    } <= set(calls)
    for func, func_calls in calls.items():
        assert any(not c.hidden for c in func_calls), f"{func} has no visible check"
        assert any(c.hidden for c in func_calls), f"{func} has no hidden check"


@pytest.mark.parametrize("assignment,student", demo_students())
def test_a_demo_mistake_that_costs_hidden_points_fails_a_visible_check(assignment, student):
    found = verdicts(assignment, student)
    if student == "alice":  # the right answers pass everything: the checks themselves work here
        assert found and all(all(v[True] + v[False]) for v in found.values()), found
    silent = sorted(unit for unit, v in found.items() if not all(v[True]) and all(v[False]))
    assert not silent, (
        f"{student}'s {silent} pass every visible check in {assignment} but fail a hidden "
        "one: add a case that shows the mistake to the visible suite (of that test cell)"
    )
