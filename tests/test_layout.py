"""grading/layout.py: one answer to "where is it, and which gradebook" for every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, assignments
from grader_utils.grading.layout import CourseLayout, course_db_url


def _course(tmp_path, config: str = "") -> CourseLayout:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n" + config)
    for name in ("02_b", "01_a"):
        (tmp_path / "source" / name).mkdir(parents=True)
    (tmp_path / "source" / "notes.txt").write_text("not an assignment")
    for student in ("zoe", "ann"):
        (tmp_path / "submitted" / student / "01_a").mkdir(parents=True)
    return CourseLayout(tmp_path)


def test_the_gradebook_is_the_explicit_url_else_the_config_else_gradebook_db(tmp_path):
    plain = _course(tmp_path)
    assert plain.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}?timeout=60"
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'elsewhere.db'}'\n")
    assert CourseLayout(tmp_path).db_url == f"sqlite:///{tmp_path / 'elsewhere.db'}?timeout=60"
    assert CourseLayout(tmp_path, "postgresql://u@h/db").db_url == "postgresql+psycopg2://u@h/db"
    assert course_db_url(tmp_path, "sqlite:///x.db?timeout=5") == "sqlite:///x.db?timeout=5"


def test_assignments_and_students_come_from_the_folders(tmp_path):
    layout = _course(tmp_path)
    assert layout.assignments() == ["01_a", "02_b"]
    assert layout.students("01_a") == ["ann", "zoe"] and layout.students("01_a", ["zoe"]) == ["zoe"]
    assert layout.students("02_b") == []
    assert CourseLayout(ROOT).assignments() == assignments()
    assert layout.submitted("ann", "01_a").is_dir() and layout.source("01_a").is_dir()


@pytest.mark.nbgrader
def test_every_command_uses_the_courses_gradebook(tmp_path):
    """``cnn-course roster`` and ``table`` (what ``make demo`` prints) read the gradebook the course's config
    names, not a gradebook.db of their own."""
    _course(tmp_path, f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'class.db'}'\n")
    roster = subprocess.run([sys.executable, "-m", "grader_utils", "roster", str(ROOT / "demo" / "students.csv"),
                             "--root", str(tmp_path)], capture_output=True, text=True)
    assert roster.returncode == 0, roster.stderr
    assert (tmp_path / "class.db").exists() and not (tmp_path / "gradebook.db").exists()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'class.db'}") as gb:
        ids = sorted(s.id for s in gb.students)
    assert ids and ids == sorted(line.split(",")[0] for line in
                                 (ROOT / "demo" / "students.csv").read_text().splitlines()[1:] if line)
