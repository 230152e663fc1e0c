"""The instructor's solutions (the solution cells of source/) agree with Keras on a few
hundred random cases per exercise, through the same checks the students get."""

from __future__ import annotations

import ast

import nbformat
import pytest

from conftest import ROOT, assignments
from grader_utils import checks
from grader_utils.judge import timing, verdicts

pytestmark = pytest.mark.keras

#: every assignment's notebooks
NOTEBOOKS = [nb for a in assignments() for nb in sorted((ROOT / "source" / a).glob("*.ipynb"))]


def _solution_namespace(path) -> dict:
    """Run a notebook's helper cell (to_pair) and its solution cells."""
    ns: dict = {}
    exec("import math\nimport numpy as np", ns)
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or "def to_pair" in cell.source):
            exec(cell.source, ns)
    return ns


@pytest.fixture(scope="module")
def solutions() -> dict:
    """{function name: the instructor's function} over every notebook (each notebook's cells run apart)."""
    found: dict = {}
    for path in NOTEBOOKS:
        namespace = _solution_namespace(path)
        found.update({name: namespace[name] for name in _solution_functions(path)})
    return found


def _solution_functions(path) -> list[str]:
    """Names the solution cells of ``path`` define (functions, or a name bound to one)."""
    names = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    names.append(node.name)
                elif isinstance(node, ast.Assign):
                    names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _every_suite() -> list:
    """(exercise, suite, n) for every suite of every array exercise of the registry, but the timed ones
    of its family (test_reference_conv2d_fast_is_vectorized): the fixed suites as they are, the seeded ones at
    eight times their size (at most 300 cases)."""
    import inspect

    from grader_utils.judge.cases import SUITES
    from grader_utils.judge.registry import ARRAY_EXERCISES

    out = []
    for ex in ARRAY_EXERCISES.values():
        timed = {s for other in ARRAY_EXERCISES.values() if other.family == ex.family for s in other.timed}
        for suite, factory in SUITES[ex.family].items():
            if suite in timed:  # a speed suite (its exercise's time rule is tested below)
                continue
            default = inspect.signature(factory).parameters["n"].default
            out.append(
                pytest.param(
                    ex.check, suite, None if default is None else min(8 * default, 300), id=f"{ex.function}-{suite}"
                )
            )
    return out


@pytest.mark.parametrize("check,suite,n", _every_suite())
def test_reference_solution_matches_keras(solutions, check, suite, n):
    from grader_utils.judge.cases import suite_cases
    from grader_utils.judge.registry import ARRAY_EXERCISES

    ex = ARRAY_EXERCISES[check]
    cases = suite_cases(ex.family, suite, seed=12345, n=n)
    assert ex.function in solutions, f"no solution cell of {[p.name for p in NOTEBOOKS]} defines {ex.function}"
    assert ex.verdict is not None
    report = checks.run_suite(solutions[ex.function], ex.function, cases, ex.verdict, suite, numpy_only=True)
    assert report.total == len(cases) and (n is None or report.total == n)
    assert report.passed, report.message()


def test_reference_conv2d_fast_is_vectorized(solutions):
    """The instructor's conv2d_fast passes the time rule that the loop version fails."""
    from grader_utils.judge.cases import suite_cases

    cases = suite_cases("conv2d", "large")
    fast = checks.run_suite(
        solutions["conv2d_fast"],
        "conv2d_fast",
        cases,
        verdicts.verdict_conv2d,
        "large",
        numpy_only=True,
        max_seconds=timing.time_limit,
    )
    assert fast.passed, fast.message()
    loop = checks.run_suite(
        solutions["conv2d"],
        "conv2d_fast",
        cases,
        verdicts.verdict_conv2d,
        "large",
        numpy_only=True,
        max_seconds=timing.time_limit,
    )
    assert loop.rule_broken and "loop over the output pixels" in loop.message()
