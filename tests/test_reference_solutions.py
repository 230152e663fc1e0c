"""The instructor's solutions (the solution cells of source/) agree with Keras on a few
hundred random cases per exercise, through the same checks the students get."""

from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT
from grader_utils import checks

pytestmark = pytest.mark.keras

NB = ROOT / "source" / "02_padding_strides_pooling" / "padding_strides_pooling.ipynb"


@pytest.fixture(scope="module")
def solution():
    """Run the notebook's plain code cells that define helpers, and its solution cells."""
    ns: dict = {}
    exec("import math\nimport numpy as np", ns)
    for cell in nbformat.read(NB, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or "def to_pair" in cell.source):
            exec(cell.source, ns)
    return ns


@pytest.mark.parametrize("name,verdict,family,suite,n", [
    ("conv2d_output_shape", checks.verdict_conv2d_output_shape, "conv2d_output_shape", "random", 400),
    ("conv2d_output_shape", checks.verdict_conv2d_output_shape, "conv2d_output_shape", "same_strides", 200),
    ("pool2d_output_shape", checks.verdict_pool2d_output_shape, "pool2d_output_shape", "random", 400),
    ("max_pool2d", checks.verdict_max_pool2d, "pool2d_values", "random", 300),
    ("max_pool2d", checks.verdict_max_pool2d, "pool2d_values", "same_padding", 200),
    ("average_pool2d", checks.verdict_average_pool2d, "pool2d_values", "random", 300),
    ("average_pool2d", checks.verdict_average_pool2d, "pool2d_values", "same_padding", 200),
    ("sequential_output_shapes", checks.verdict_sequential_output_shapes, "sequential", "random", 100),
    ("sequential_param_counts", checks.verdict_sequential_param_counts, "sequential", "random", 100),
])
def test_reference_solution_matches_keras(solution, name, verdict, family, suite, n):
    from grader_utils.cases import suite_cases

    cases = suite_cases(family, suite, seed=12345, n=n)
    report = checks.run_suite(solution[name], name, cases, verdict, suite)
    assert report.total == n
    assert report.passed, report.message()
