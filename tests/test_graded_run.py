"""grading/graded_run.py: what nbgrader's autograde runs in place of Execute. Here the parts decided before any
kernel starts (a refused submission, an unreadable instructor's notebook, a run outside grading); the run
itself is tested on real kernels in test_kernel.py, test_engine.py and test_fail_closed.py."""

from __future__ import annotations

import os

import nbformat
import pytest

from conftest import ROOT
from grader_utils.grading.context import GradingContext
from grader_utils.grading.graded_run import SandboxedExecute, _defined_functions
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.plan import GradingError
from grader_utils.grading.records import Status, read_record
from grader_utils.grading.specs import read_specs

ASSIGNMENT = "01_convolution"
SOURCE = CourseLayout(ROOT).source_notebooks(ASSIGNMENT)[0]
RELEASE = CourseLayout(ROOT).release_notebook(ASSIGNMENT, SOURCE.stem)


def test_a_submission_holding_a_link_is_refused_before_any_kernel_runs(tmp_path):
    layout = CourseLayout(tmp_path)
    folder = layout.submitted("ann", ASSIGNMENT)
    folder.mkdir(parents=True)
    (folder / SOURCE.name).write_bytes(RELEASE.read_bytes())
    os.symlink("/etc/hostname", folder / "data.txt")
    record = layout.record("ann", ASSIGNMENT, SOURCE.stem)
    ctx = GradingContext(
        SOURCE,
        RELEASE,
        secret=b"s" * 32,
        context=f"{ASSIGNMENT}/{SOURCE.stem}",
        submission_folder=folder,
        record=record,
        record_names=("ann", ASSIGNMENT, SOURCE.stem),
    )
    nb = nbformat.read(folder / SOURCE.name, as_version=4)
    SandboxedExecute(grading=ctx).preprocess(nb, {"metadata": {"path": str(folder)}})
    specs = read_specs(SOURCE)
    assert [r.grade_id for r in ctx.results] == [s.grade_id for s in specs]
    assert {r.status for r in ctx.results} == {Status.INVALID} and all(r.score == 0 for r in ctx.results)
    assert "data.txt (a symbolic link)" in ctx.results[0].reason
    assert read_record(record) == ctx.results
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert graded and all(c.outputs[0].output_type == "error" for c in graded)


def test_an_unreadable_instructors_notebook_is_the_graders_failure(tmp_path):
    ctx = GradingContext(tmp_path / "missing.ipynb")
    with pytest.raises(GradingError, match="the instructor's notebook could not be read"):
        SandboxedExecute(grading=ctx).preprocess(nbformat.v4.new_notebook(), {})


def test_defined_functions_are_the_top_level_ones():
    source = "import numpy as np\ndef conv(x):\n    def inner(): pass\n    return x\nasync def later(): pass\n"
    assert _defined_functions(source) == ["conv", "later"]
    assert _defined_functions(["def a():\n", "    pass\n"]) == ["a"]
    assert _defined_functions("def broken(:\n") == []
