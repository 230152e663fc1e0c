"""cells/release_check.py and ``cnn-course check``: how each graded cell of an instructor's notebook will be graded,
and what the secure grader cannot grade, named by (cell, line, reason) before release (issue #22 item 7). And
every assignment's solution passes every ordinary test cell under the secure grader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, assignments
from grader_utils.cells import NotebookCells, channel, check_notebook
from grader_utils.instructor.cli import main


def _cell(source: str, grade_id: str, points: int = 0, code: bool = True, **flags: bool):
    cell = nbformat.v4.new_code_cell(source) if code else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "points": points, "grade": False, "solution": False, **flags}
    return cell


def _notebook(path: Path) -> Path:
    cells = [
        _cell("import numpy as np\ndef helper(x):\n    return x", "setup"),
        _cell("def squares(n):\n    return [i * i for i in range(1, n + 1)]", "answer", solution=True),
        _cell("assert squares(2) == [1, 4]", "t_ok", 1, grade=True),
        _cell("%time squares(2)\nassert True", "t_magic", 1, grade=True),
        _cell("assert squares(", "t_syntax", 1, grade=True),
        _cell("check_conv2d(conv2d, 'basic')\nassert squares(1) == [1]", "t_mixed", 1, grade=True),
        _cell("x = 1\nsquares(lambda: 2)\nsquares(n=helper)", "t_lambda", 1, grade=True),
        _cell("old = squares\nsquares = lambda n: []\nsquares = old", "t_mock", 1, grade=True),
        _cell("check_conv2d(conv2d, 'basic')", "t_check", 2, grade=True),
        _cell("Explain.", "written", 2, code=False, grade=True, solution=True),
        _cell("Do it.", "task", 3, code=False, task=True),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, path)
    return path


def test_each_graded_cell_is_planned_and_each_problem_named_by_cell_and_line(tmp_path: Path):
    plans, problems = check_notebook(_notebook(tmp_path / "nb.ipynb"))
    assert [(p.grade_id, p.how) for p in plans] == [
        ("t_ok", "ordinary"),
        ("t_magic", "ordinary"),
        ("t_syntax", "ordinary"),
        ("t_mixed", "check"),
        ("t_lambda", "ordinary"),
        ("t_mock", "ordinary"),
        ("t_check", "check"),
        ("written", "by hand (written answer)"),
        ("task", "by hand (task)"),
    ]
    found = {(p.grade_id, p.line): p.reason for p in problems}
    assert set(found) == {("t_magic", 1), ("t_syntax", 1), ("t_mixed", 2), ("t_lambda", 2), ("t_lambda", 3),
                          ("t_mock", 2)}  # fmt: skip
    assert "IPython" in found["t_magic", 1] and "does not compile" in found["t_syntax", 1]
    assert "only the check_* calls are graded" in found["t_mixed", 2]
    assert "passes a function of the test to the student's squares" in found["t_lambda", 2]
    assert "gives the student's squares a function of the test" in found["t_mock", 2]


def test_the_command_lists_the_cells_and_fails_on_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "source" / "ps").mkdir(parents=True)
    _notebook(tmp_path / "source" / "ps" / "nb.ipynb")
    assert main(["check", "ps", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "  t_ok (1 points): ordinary" in out and "CANNOT GRADE cell t_mixed, line 2: mixes" in out
    assert out.strip().endswith("6 problem(s)")


@pytest.mark.parametrize("assignment", assignments())
def test_every_assignment_of_the_course_can_be_graded(assignment: str, capsys: pytest.CaptureFixture):
    assert main(["check", assignment, "--root", str(ROOT)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    tests = [
        c.metadata["nbgrader"]["grade_id"]
        for nb in sorted((ROOT / "source" / assignment).glob("*.ipynb"))
        for c in nbformat.read(nb, as_version=4).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution")
    ]  # fmt: skip
    assert tests and all(f"  {t} (" in out for t in tests)


SERVE = """
import sys
from grader_utils.cells import agent
ns = {"__name__": "__main__"}
for source in sys.argv[3:]:
    exec(source, ns)
agent.serve(sys.argv[1], sys.argv[2], ns)
"""

#: the course's notebooks with ordinary test cells (the course's own cells call check_*; ordinary ones may come)
ORDINARY = [
    nb
    for a in assignments()
    for nb in sorted((ROOT / "source" / a).glob("*.ipynb"))
    if any(p.how == "ordinary" for p in check_notebook(nb)[0])
]


@pytest.mark.keras
@pytest.mark.parametrize("notebook", ORDINARY or [pytest.param(None, marks=pytest.mark.skip("none in the course yet"))])
def test_the_instructors_solution_passes_every_ordinary_test_cell(notebook: Path | None, tmp_path: Path):
    """The source notebook's own code cells (solutions included) in a process of their own, as the kernel runs
    them; each ordinary test cell run here against it, as the secure grader runs it."""
    assert notebook is not None
    plans, _ = check_notebook(notebook)
    tests = {p.grade_id: p.points for p in plans if p.how == "ordinary"}
    cells = NotebookCells(notebook, tests, seconds=120)
    code = []
    for c in nbformat.read(notebook, as_version=4).cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type == "code" and not (meta.get("grade") and not meta.get("solution")):
            code.append(c.source)
    try:
        for grade_id, points in tests.items():
            run = cells.start(grade_id, tmp_path)
            path = str(tmp_path / channel.SOCKET_NAME)
            subprocess.run([sys.executable, "-c", SERVE, path, run.token, *code], cwd=notebook.parent, timeout=600)
            outcome = cells.finish(run)
            assert (outcome.status, outcome.score) == ("passed", points), (grade_id, outcome.message)
    finally:
        cells.close()
