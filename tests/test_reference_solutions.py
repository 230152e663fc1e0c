"""The instructor's solutions (the solution cells of source/) agree with Keras on a few
hundred random cases per exercise, through the same checks the students get."""

from __future__ import annotations

import ast

import nbformat
import pytest

from conftest import ROOT, assignments
from grader_utils import checks
from grader_utils.judge import timing
from grader_utils.judge import verdicts

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


@pytest.mark.parametrize("name,verdict,family,suite,n", [
    ("conv2d_output_shape", verdicts.verdict_conv2d_output_shape, "conv2d_output_shape", "random", 400),
    ("conv2d_output_shape", verdicts.verdict_conv2d_output_shape, "conv2d_output_shape", "same_strides", 200),
    ("pool2d_output_shape", verdicts.verdict_pool2d_output_shape, "pool2d_output_shape", "random", 400),
    ("max_pool2d", verdicts.verdict_max_pool2d, "pool2d_values", "random", 300),
    ("max_pool2d", verdicts.verdict_max_pool2d, "pool2d_values", "same_padding", 200),
    ("average_pool2d", verdicts.verdict_average_pool2d, "pool2d_values", "random", 300),
    ("average_pool2d", verdicts.verdict_average_pool2d, "pool2d_values", "same_padding", 200),
    ("sequential_output_shapes", verdicts.verdict_sequential_output_shapes, "sequential", "random", 100),
    ("sequential_param_counts", verdicts.verdict_sequential_param_counts, "sequential", "random", 100),
    ("dense_param_count", verdicts.verdict_dense_param_count, "dense_param_count", "random", 300),
    ("conv2d_param_count", verdicts.verdict_conv2d_param_count, "conv2d_param_count", "random", 300),
    ("correlate2d", verdicts.verdict_correlate2d, "correlate2d", "random", 200),
    ("conv2d", verdicts.verdict_conv2d, "conv2d", "random", 200),
    ("conv2d", verdicts.verdict_conv2d, "conv2d", "same_padding", 100),
    ("conv2d", verdicts.verdict_conv2d, "conv2d", "strides", 100),
    ("conv2d_fast", verdicts.verdict_conv2d, "conv2d", "random", 200),
    ("receptive_field", verdicts.verdict_receptive_field, "receptive_field", "random", 200),
])
def test_reference_solution_matches_keras(solutions, name, verdict, family, suite, n):
    from grader_utils.judge.cases import suite_cases

    cases = suite_cases(family, suite, seed=12345, n=n)
    assert name in solutions, f"no solution cell of {[p.name for p in NOTEBOOKS]} defines {name}"
    report = checks.run_suite(solutions[name], name, cases, verdict, suite, numpy_only=True)
    assert report.total == n
    assert report.passed, report.message()


def test_reference_conv2d_fast_is_vectorized(solutions):
    """The instructor's conv2d_fast passes the time rule that the loop version fails."""
    from grader_utils.judge.cases import suite_cases

    cases = suite_cases("conv2d", "large")
    fast = checks.run_suite(solutions["conv2d_fast"], "conv2d_fast", cases, verdicts.verdict_conv2d, "large",
                            numpy_only=True, max_seconds=timing.time_limit)
    assert fast.passed, fast.message()
    loop = checks.run_suite(solutions["conv2d"], "conv2d_fast", cases, verdicts.verdict_conv2d, "large",
                            numpy_only=True, max_seconds=timing.time_limit)
    assert loop.rule_broken and "loop over the output pixels" in loop.message()
