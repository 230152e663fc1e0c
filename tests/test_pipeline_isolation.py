"""`cnn-course grade --jobs 2` on a real class: a hog graded next to a correct student changes nothing.

The hog's answer cell starts as many threads and processes as it is allowed and keeps them alive
(in nbgrader's kernel and in the engine's sandbox) while a correct student (the demo's alice) is
graded by the other worker. With one shared sandbox user, alice's sandboxes could not start
(``crash (exit 126)``, 0 points); with a user id per sandbox she gets full marks every round.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, VENV_BIN, course_with_demo_student, load_json

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.root(why="a user id per sandbox")]

A = "01_convolution"
NB = "convolution.ipynb"
ROUNDS = 3

HOG = """
import os, threading, time
_held = []
def _hold():
    time.sleep(3600)
try:
    for _ in range(100_000):
        _t = threading.Thread(target=_hold, daemon=True)
        _t.start()
        _held.append(_t)
except RuntimeError:
    pass
_kids = []
try:
    for _ in range(100_000):
        _pid = os.fork()
        if _pid == 0:
            time.sleep(3600)
            os._exit(0)
        _kids.append(_pid)
except OSError:
    pass
print("holding", len(_held), "threads and", len(_kids), "processes")
time.sleep(10)  # keep them while the other worker grades
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = course_with_demo_student(tmp_path_factory.mktemp("isolation"), A)
    nb = nbformat.read(course / "release" / A / NB, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "dense_param_count":
            cell.source = HOG
    dest = course / "submitted" / "hog" / A
    dest.mkdir(parents=True)
    nbformat.write(nb, dest / NB)
    return course


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(A)}


def test_a_hog_graded_next_to_a_correct_student_changes_nothing(course):
    expected = sum(load_json(ROOT / "demo" / "expected_scores.json")[A]["alice"].values())
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for round_ in range(ROUNDS):
        proc = subprocess.run(
            [
                str(VENV_BIN / "cnn-course"),
                "grade",
                A,
                "--jobs",
                "2",
                "--no-progress",
                "--no-preflight",
                "--root",
                str(course),
            ],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        scores = _scores(course)
        assert scores.get("alice") == expected, (round_, scores, proc.stdout[-3000:], proc.stderr[-3000:])
        records = load_json(course / "autograded" / "alice" / A / "convolution.grading.json")
        assert {t["status"] for t in records["tests"]} == {"ok"}, records
        # the hog really held its threads in the kernel while alice was graded
        hog = nbformat.read(course / "autograded" / "hog" / A / NB, as_version=4)
        cell = next(c for c in hog.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "dense_param_count")
        assert "holding" in "".join(o.get("text", "") for o in cell.outputs), cell.outputs
