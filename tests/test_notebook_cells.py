"""cells/notebook_cells.py: a notebook's ordinary test cells, read from the instructor's notebook and run in this
process against a real agent (a process of its own, over the real socket): the read-only cells run here first,
the solution cells' names are the student's, data files are the instructor's, failures are 0 with a reason."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import nbformat

from grader_utils.cells import NotebookCells, channel

SERVE = """
import sys
from grader_utils.cells import agent
ns = {"__name__": "__main__"}
exec(sys.argv[3], ns)
agent.serve(sys.argv[1], sys.argv[2], ns)
"""


def _code(source: str, grade_id: str | None = None, points: int = 0, **flags: bool):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "points": points, "grade": False, "solution": False, **flags}
    return cell


def _source(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[
            _code("import numpy as np\nlimit = 3\nwith open('data.txt') as f:\n    secret = f.read().strip()", "setup"),
            _code("def double(x):\n    return 2 * x\nlimit = 100", "answer", solution=True),
            _code("assert double(limit) == 6\nassert secret == 'instructor'", "t1", 2, grade=True),
            _code("assert double(2) == 4\n0.5", "t2", 1, grade=True),
        ]
    )
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "data.txt").write_text("instructor")
    nbformat.write(nb, folder / "nb.ipynb")
    return folder / "nb.ipynb"


def _grade(cells: NotebookCells, probe: Path, grade_id: str, student: str, serve: bool = True):
    run = cells.start(grade_id, probe)
    if serve:
        path = str(probe / channel.SOCKET_NAME)
        subprocess.run([sys.executable, "-c", SERVE, path, run.token, student], timeout=60, check=True)
    return cells.finish(run)


def test_read_only_cells_run_here_and_solution_names_are_the_students(tmp_path: Path):
    cells = NotebookCells(_source(tmp_path), {"t1": 2, "t2": 1}, seconds=20)
    assert [k for k, _g, _s in cells.cells] == ["instructor", "test", "test"]
    assert {"double", "limit"} <= cells.space.student
    probe = tmp_path / "probe"
    probe.mkdir()
    student = "def double(x):\n    return 2 * x\nlimit = 3\n"
    try:
        # limit is the student's (a solution cell binds it): 3 in the kernel; the data file is the instructor's
        assert (_grade(cells, probe, "t1", student).status, cells.space["np"].__name__) == ("passed", "numpy")
        assert _grade(cells, probe, "t2", student).score == 0.5
    finally:
        cells.close()


def test_a_kernel_that_never_connects_is_a_crash_and_a_wrong_token_is_not_served(tmp_path: Path):
    cells = NotebookCells(_source(tmp_path), {"t1": 2}, seconds=2)
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        run = cells.start("t1", probe)
        path = str(probe / channel.SOCKET_NAME)
        wrong = secrets.token_hex(16)
        # refused: the grading side closes the connection, the agent ends without a request
        subprocess.run([sys.executable, "-c", SERVE, path, wrong, "x = 1"], timeout=60, check=True)
        outcome = cells.finish(run)
        assert (outcome.status, outcome.score) == ("crash", 0.0)
    finally:
        cells.close()


def test_an_unknown_test_cell_is_an_error_not_a_score(tmp_path: Path):
    cells = NotebookCells(_source(tmp_path), {"nope": 1}, seconds=5)
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        outcome = _grade(cells, probe, "nope", "x = 1")
        assert (outcome.status, outcome.score) == ("error", 0.0) and "nope" in outcome.message
    finally:
        cells.close()
