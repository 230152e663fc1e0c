"""preflight: the solution check's key follows what it depends on; a solution short of full marks stops the run
before anything is graded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, copy_course
from grader_utils.instructor import preflight


def _course(tmp_path: Path) -> Path:
    course = copy_course(tmp_path / "course")
    shutil.copytree(ROOT / "release" / "01_convolution", course / "release" / "01_convolution")
    return course


def test_the_key_changes_with_the_course_path_and_the_instructors_notebooks(tmp_path: Path):
    course = _course(tmp_path)
    key = preflight.preflight_key(course, "01_convolution")
    assert key == preflight.preflight_key(course, "01_convolution")
    moved = tmp_path / "moved"
    shutil.copytree(course, moved)
    assert preflight.preflight_key(moved, "01_convolution") != key  # a moved course is checked again
    nb = next((course / "source" / "01_convolution").glob("*.ipynb"))
    nb.write_text(nb.read_text().replace("Convolution", "Convolutions", 1))
    assert preflight.preflight_key(course, "01_convolution") != key


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.keras
def test_a_solution_short_of_full_marks_is_a_problem_and_a_good_one_is_remembered(tmp_path: Path):
    course = _course(tmp_path)
    assert preflight.solution_problem(course, "01_convolution") is None
    assert (course / "autograded" / ".preflight" / "01_convolution.json").exists()
    nb = next((course / "source" / "01_convolution").glob("*.ipynb"))
    text = nb.read_text()
    right = "return (math.prod(input_shape) + 1) * units"
    assert right in text, "the solution this test breaks moved"
    nb.write_text(text.replace(right, "return math.prod(input_shape) * units"))  # the bias forgotten
    problem = preflight.solution_problem(course, "01_convolution")
    assert problem is not None
    assert "does not get full marks" in problem.cause and "dense_param_count" in problem.cause


def test_make_install_repairs_a_virtualenv_left_at_the_old_place(tmp_path: Path):
    """A course copied with its .venv: `make install` plans the repair (programs' first lines and the editable
    install moved to the new folder); with the venv of this folder, it plans nothing of the kind."""
    import subprocess

    course = tmp_path / "moved-course"
    (course / "requirements").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", course / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", course / "pyproject.toml")
    for name in ("student.txt", "instructor.txt"):
        shutil.copy(ROOT / "requirements" / name, course / "requirements" / name)
    site = course / ".venv" / "lib" / "python3.11" / "site-packages" / "grader_utils-0.1.0.dist-info"
    site.mkdir(parents=True)
    (course / ".venv" / "bin").mkdir()
    (course / ".venv" / "bin" / "python").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    old = tmp_path / "old-course"
    (site / "direct_url.json").write_text(json.dumps({"dir_info": {"editable": True}, "url": f"file://{old}"}))
    (course / ".venv" / ".installed-course").touch()

    def plan() -> str:
        return subprocess.run(["make", "-n", "install"], cwd=course, capture_output=True, text=True).stdout

    moved = plan()
    assert f"installed for {old}" in moved and f"s|{old}/.venv|{course}/.venv|g" in moved
    assert "pip install --quiet --no-deps -e ." in moved
    (site / "direct_url.json").write_text(json.dumps({"dir_info": {"editable": True}, "url": f"file://{course}"}))
    assert "relocate" not in plan() and "installed for" not in plan()
