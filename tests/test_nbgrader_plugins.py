"""Feedback preprocessor: hidden tests and tracebacks are removed from graded cells only."""

from __future__ import annotations

import nbformat

from grader_utils.grading.nbgrader_plugins import HideHiddenTests, strip_hidden_regions

SOURCE = "# Hidden tests: random cases\n### BEGIN HIDDEN TESTS\ncheck(f, seed=1)\n### END HIDDEN TESTS\nafter()"


def test_strip_hidden_regions():
    assert strip_hidden_regions(SOURCE) == "# Hidden tests: random cases\nafter()"
    assert strip_hidden_regions("plain") == "plain"


def test_preprocessor_hides_regions_and_tracebacks_of_graded_cells():
    graded = nbformat.v4.new_code_cell(SOURCE)
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": "f__random", "points": 1}
    graded.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="f: 3 of 9 wrong",
            traceback=["Traceback", "check(f, seed=1)", "AssertionError"],
        )
    ]
    plain = nbformat.v4.new_code_cell(SOURCE)
    nb = nbformat.v4.new_notebook(cells=[graded, plain])
    out, _ = HideHiddenTests().preprocess(nb, {})
    assert "seed=1" not in out.cells[0].source
    assert out.cells[0].outputs[0]["traceback"] == ["AssertionError: f: 3 of 9 wrong"]
    assert out.cells[1].source == SOURCE


def test_a_code_answer_graded_by_hand_keeps_its_traceback():
    """The student's own code answer (grade + solution) is not a test: the grader sees its whole traceback."""
    answer = nbformat.v4.new_code_cell("plot(x)")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "plot", "points": 1}
    traceback = ["Traceback", "plot(x)", "NameError: name 'plot' is not defined"]
    answer.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="x", traceback=list(traceback))]
    out, _ = HideHiddenTests().preprocess(nbformat.v4.new_notebook(cells=[answer]), {})
    assert out.cells[0].outputs[0]["traceback"] == traceback
