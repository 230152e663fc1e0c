"""Ordinary nbgrader test cells graded by this grader, end to end (issue #22 items 1-3, 5, 6): one course of its
own, two notebooks with data files beside them, graded once per module by ``nbgrader autograde`` with the
documented config, and once by plain nbgrader (its own Execute, the student's kernel running the tests) as the
baseline. Honest work scores as plain nbgrader scores it; forgeries that plain nbgrader pays score 0 here.

This is the module's one slow fixture (two autograde runs of four students); everything else here reads it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import VENV_BIN
from test_nbgrader_setup import _cell, _run, documented_config

ASSIGNMENT = "ps2"
pytestmark = [pytest.mark.slow, pytest.mark.nbgrader, pytest.mark.sandbox, pytest.mark.keras]

SETUP = "import numpy as np\n\ndef assert_equal(a, b):\n    assert a == b, f'{a!r} != {b!r}'"
SOLUTION = {
    "relu": "import numpy as np\n\ndef relu(x):\n    ### BEGIN SOLUTION\n    return np.maximum(x, 0)\n"
    "    ### END SOLUTION",
    "squares": "def squares(n):\n    ### BEGIN SOLUTION\n    if n < 1:\n"
    "        raise ValueError('n must be at least 1')\n"
    "    return [i * i for i in range(1, n + 1)]\n    ### END SOLUTION\n\ndef sum_of_squares(n):\n"
    "    ### BEGIN SOLUTION\n    return sum(squares(n))\n    ### END SOLUTION",
    "answer": "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION",
    "total": "def data_total():\n    ### BEGIN SOLUTION\n    with open('data.csv') as f:\n"
    "        return sum(int(line) for line in f if line.strip())\n    ### END SOLUTION",
}
#: grade_id -> (points, source) of the first notebook's test cells
TESTS = {
    "t_relu": (2, "x = np.array([-2.0, 0.5, 3.0])\nassert np.allclose(relu(x), [0.0, 0.5, 3.0])\n"
               "import tensorflow as tf\n"
               "assert np.allclose(relu(x), tf.nn.relu(x).numpy())"),
    "t_squares": (1, "assert squares(3) == [1, 4, 9]\nassert_equal(squares(1), [1])\n"
                  "### BEGIN HIDDEN TESTS\nassert squares(5)[-1] == 25\n### END HIDDEN TESTS"),
    "t_raises": (1, "try:\n    squares(0)\nexcept ValueError:\n    pass\nelse:\n"
                 "    raise AssertionError('squares(0) should raise ValueError')"),
    "t_uses": (1, "old = squares\ndel squares\ntry:\n    sum_of_squares(2)\nexcept NameError:\n    pass\nelse:\n"
               "    raise AssertionError('sum_of_squares does not use squares')\nfinally:\n    squares = old\n"
               "assert sum_of_squares(3) == 14"),
    "t_answer": (2, "score = 0.0\nif answer == 42:\n    score += 1.5\n"
                 "if isinstance(answer, int):\n    score += 0.5\nscore"),
    "t_data": (1, "with open('data.csv') as f:\n"
               "    expected = sum(int(v) for v in f.read().split())\n"
               "assert data_total() == expected"),
}  # fmt: skip
SLOW = "def slow(n):\n    ### BEGIN SOLUTION\n    return n + 1\n    ### END SOLUTION"


def _notebooks(plain: bool = False) -> dict[str, nbformat.NotebookNode]:
    """The instructor's notebooks; for plain nbgrader's baseline only the first, without t_relu (its TensorFlow
    import in plain nbgrader's kernel writes to stderr, which scores 0 there: the known trap)."""
    cells = [_cell("markdown", "# Problem set 2"), _cell("code", SETUP, "setup", locked=True)]
    for name, source in SOLUTION.items():
        cells.append(_cell("code", source, name, solution=True))
    for grade_id, (points, source) in TESTS.items():
        if plain and grade_id == "t_relu":
            continue
        cells.append(_cell("code", source, grade_id, points, grade=True, locked=True))
    first = nbformat.v4.new_notebook(cells=cells)
    second = nbformat.v4.new_notebook(
        cells=[
            _cell("code", SLOW, "slow", solution=True),
            _cell("code", "assert slow(1) == 2", "t_slow", 1, grade=True, locked=True),
            _cell("code", "assert slow(2) == 3\nassert 1 + 1 == 2", "t_slow_again", 1, grade=True, locked=True),
        ]
    )
    for nb in (first, second):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"one": first} if plain else {"one": first, "two": second}


#: the forger's cells: plain nbgrader's own kernel runs the test cells, so these get points there
FORGED_LIST = "class L(list):\n    def __eq__(self, other):\n        return True\n\ndef squares(n):\n    return L()\n"
FORGED_SHELL = """
ip = get_ipython()
_real = ip.run_cell
_real_async = ip.run_cell_async
def _skip(cell):
    return "pass" if "assert" in cell or "score" in cell else cell
ip.run_cell = lambda cell, *a, **k: _real(_skip(cell), *a, **k)
ip.run_cell_async = lambda cell, *a, **k: _real_async(_skip(cell), *a, **k)
answer = "0"
"""
LOOP = "def slow(n):\n    while True:\n        pass\n"


def _student(notebooks: dict, who: str, release: dict) -> dict:
    out = {}
    for name, nb in (release if who == "untouched" else notebooks).items():
        nb = nbformat.from_dict(json.loads(json.dumps(nb)))
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if who == "wrong" and gid == "answer":
                cell.source = "answer = 41"
            if who == "wrong" and gid == "relu":
                cell.source = "def relu(x):\n    return x"
            if who == "wrong" and gid == "squares":  # right on the visible tests, wrong on the hidden one
                cell.source = cell.source.replace("range(1, n + 1)]", "range(1, n + 1)][:4]")
            if who == "forger" and gid == "squares":
                cell.source = FORGED_LIST + "def sum_of_squares(n):\n    return 0\n"
            if who == "forger" and gid == "answer":
                cell.source = FORGED_SHELL
            if who == "forger" and gid == "slow":
                cell.source = LOOP
        out[name] = nb
    return out


#: (the untouched release: tests/test_nbgrader_setup.py)
STUDENTS = ["solution", "wrong", "forger"]


def _course(root: Path, config: str, plain: bool) -> Path:
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    notebooks = _notebooks(plain)
    for name, nb in notebooks.items():
        nbformat.write(nb, source / f"{name}.ipynb")
    (source / "data.csv").write_text("1\n2\n3\n")
    (root / "nbgrader_config.py").write_text(config + "\nc.Execute.timeout = 10\n")
    _run([str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], root)
    release = {n: nbformat.read(root / "release" / ASSIGNMENT / f"{n}.ipynb", as_version=4) for n in notebooks}
    for who in STUDENTS:
        folder = root / "submitted" / who / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(source / "data.csv", folder / "data.csv")
        for name, nb in _student(notebooks, who, release).items():
            nbformat.write(nb, folder / f"{name}.ipynb")
    _run([str(VENV_BIN / "nbgrader"), "autograde", ASSIGNMENT], root, timeout=1200)
    return root


def _grades(course: Path, students: list[str], names: list[str]) -> dict[str, dict[str, float | None]]:
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float | None]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for who in students:
            for name in names:
                for g in gb.find_submission_notebook(name, ASSIGNMENT, who).grades:
                    out.setdefault(who, {})[g.name] = g.auto_score
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """(our course, our grades, plain nbgrader's grades) of the same submissions."""
    ours = _course(tmp_path_factory.mktemp("ours") / "course", documented_config(), plain=False)
    plain = _course(tmp_path_factory.mktemp("plain") / "course", "c = get_config()\n", plain=True)
    return ours, _grades(ours, STUDENTS, ["one", "two"]), _grades(plain, STUDENTS, ["one"])


#: the test cells compared with plain nbgrader: the first notebook's but t_relu (see _notebooks)
COMPARED = [g for g in TESTS if g != "t_relu"]


def test_honest_work_scores_as_plain_nbgrader_scores_it(graded):
    _, ours, plain = graded
    for who in ("solution", "wrong"):
        assert {g: ours[who][g] for g in COMPARED} == {g: plain[who][g] for g in COMPARED}, who
    full = {g: float(p) for g, (p, _s) in TESTS.items()} | {"t_slow": 1.0, "t_slow_again": 1.0}
    assert {g: ours["solution"][g] for g in full} == full
    assert ours["wrong"]["t_squares"] == 0 and ours["wrong"]["t_uses"] == 1
    assert ours["wrong"]["t_answer"] == 0.5 and ours["wrong"]["t_relu"] == 0  # partial credit, as nbgrader gives it


def test_forgeries_plain_nbgrader_pays_score_0_here(graded):
    _, ours, plain = graded
    forged = ["t_squares", "t_uses", "t_answer"]
    assert all(plain["forger"][g] > 0 for g in forged), plain["forger"]  # the forgeries work on plain nbgrader
    assert all(ours["forger"][g] == 0 for g in forged), ours["forger"]
    assert ours["forger"]["t_relu"] == 2 and ours["forger"]["t_data"] == 1  # the honest cells keep their points


def test_the_records_and_feedback_say_why(graded):
    from grader_utils.grading.records import NotebookRecord

    course, _, _ = graded
    one = NotebookRecord.read(course / "autograded" / "forger" / ASSIGNMENT / "one.grading.json")
    by_id = {t.grade_id: t for t in one.tests}
    assert str(by_id["t_squares"].status) == "invalid" and "subclass of list" in by_id["t_squares"].reason
    two = NotebookRecord.read(course / "autograded" / "forger" / ASSIGNMENT / "two.grading.json")
    assert [str(t.status) for t in two.tests] == ["timeout", "timeout"], two.tests
    wrong = NotebookRecord.read(course / "autograded" / "wrong" / ASSIGNMENT / "one.grading.json")
    relu = next(t for t in wrong.tests if t.grade_id == "t_relu")
    assert "line 2 of the test: assert np.allclose(relu(x), [0.0, 0.5, 3.0])" in relu.reason
    hidden = next(t for t in wrong.tests if t.grade_id == "t_squares")
    assert "a hidden test failed" in hidden.reason and "squares(5)" not in hidden.reason
    nb = nbformat.read(course / "autograded" / "wrong" / ASSIGNMENT / "one.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "t_relu")
    assert cell.outputs[0]["output_type"] == "error" and "assert np.allclose" in cell.outputs[0]["evalue"]


def test_test_cells_never_ran_in_the_kernel(graded):
    """The autograded notebook's test cells hold the grader's verdicts, never outputs of the kernel."""
    course, _, _ = graded
    nb = nbformat.read(course / "autograded" / "solution" / ASSIGNMENT / "one.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in TESTS:
            assert cell.execution_count is None
