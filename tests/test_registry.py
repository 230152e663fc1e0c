"""judge/registry.py: every exercise is declared once, and everything that needs exercises reads it.

The proof that adding an exercise touches only the registry (and its truth, cases, verdict and notebook): a
new exercise declared here, in the test, gets its notebook check, is understood in a test cell and planned
by the engine, with no other module edited."""

from __future__ import annotations

import dataclasses
import importlib
import re

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from grader_utils import checks, model_checks
from grader_utils.judge import cases, registry
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.compare import CheckResult, compare_arrays

PACKAGE = ROOT / "grader_utils"


def test_every_exercise_is_complete():
    for check, ex in registry.EXERCISES.items():
        assert check == ex.check and check.startswith("check_") and ex.doc
        if ex.model:
            assert ex.functions >= 1 and callable(ex.plan) and not ex.family and ex.verdict is None
            assert callable(getattr(model_checks, check)), f"{check} has no notebook check in model_checks.py"
        else:
            assert ex.functions == 0 and callable(ex.verdict)
            assert suite_cases(ex.family, "basic"), f"{check}: no basic suite for {ex.family!r}"
            assert getattr(checks, check).__doc__ == ex.doc and check in checks.__all__
            assert not (ex.numpy_only and ex.arithmetic)
            assert all(suite_cases(ex.family, s) for s in ex.timed)


def test_the_notebooks_checks_are_exactly_the_registrys():
    made = {n for n in dir(checks) if n.startswith("check_") and callable(getattr(checks, n))}
    assert made == set(registry.ARRAY_EXERCISES)


def test_no_other_module_lists_exercises():
    """Check names appear only in the registry and in model_checks.py (the model checks' own functions)."""
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("registry.py", "model_checks.py"):
            continue
        names = set(re.findall(r"""["'](check_\w+)["']""", path.read_text())) & set(registry.EXERCISES)
        assert not names, f"{path.relative_to(ROOT)} lists exercises {sorted(names)}: read judge/registry.py"


def _verdict_double(case: Case, got) -> CheckResult:
    (x,) = case.args
    return compare_arrays(got, 2 * x, what="The returned array")


def test_an_exercise_declared_in_the_registry_alone_is_checked_and_graded(monkeypatch, tmp_path):
    monkeypatch.setitem(cases.SUITES, "double", {"basic": lambda rng: [Case((np.arange(6, dtype=np.float32),), {})]})
    ex = registry.Exercise(
        "check_double", "double", "Exercise ``double(x)``; x: (N,).", "double", _verdict_double, numpy_only=True
    )
    for table in (registry.EXERCISES, registry.ARRAY_EXERCISES):
        monkeypatch.setitem(table, ex.check, ex)
    try:
        fresh = importlib.reload(checks)
        fresh.check_double(lambda x: x * 2, "basic")  # the student's notebook check exists and passes
        with pytest.raises(AssertionError, match="1 of 1 basic cases are wrong"):
            fresh.check_double(lambda x: x + 2, "basic")
        # a test cell calling it is understood and planned by the engine
        from grader_utils.grading import plan, specs

        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell('check_double(double, "basic")')
        cell.metadata["nbgrader"] = {
            "grade": True,
            "grade_id": "double__basic",
            "points": 1,
            "solution": False,
            "locked": True,
            "schema_version": 3,
        }
        nb.cells = [cell]
        path = tmp_path / "n.ipynb"
        nbformat.write(nb, path)
        [spec] = specs.read_specs(path)
        assert spec.engine and spec.calls[0].func == "double"
        calls, planned = plan._plan([spec], None, "", "")
        assert [c["func"] for c in calls] == ["double"] and len(planned[0][1]) == 1
    finally:
        monkeypatch.undo()
        importlib.reload(checks)
        if hasattr(checks, "check_double"):  # reload keeps the old namespace's names
            delattr(checks, "check_double")
    assert "check_double" not in checks.__all__


def test_exercises_are_frozen():
    ex = next(iter(registry.EXERCISES.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.numpy_only = not ex.numpy_only  # type: ignore[misc]
