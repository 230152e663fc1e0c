"""Shared fixtures. The slow ones run real nbgrader on real Jupyter kernels once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from postgres import postgres_server  # noqa: F401  (session fixture: a real PostgreSQL server)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())


def runnable_by_others(path: str) -> bool:
    """Whether users other than root can run ``path`` (every folder on the way searchable, the file executable):
    the hub's tests run the course's programs as the Unix users they create."""
    p = Path(os.path.realpath(path))
    return bool(p.stat().st_mode & 0o001) and all(d.stat().st_mode & 0o001 for d in p.parents)


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader`` command line in ``course``."""
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(VENV_BIN / "nbgrader"), *args, f"--CourseDirectory.root={course}"],
                          cwd=course, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_course(dest: Path) -> Path:
    """A private copy of the course directory (source, demo, config; no state)."""
    for name in ("source", "demo"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    return dest


def course_with_demo_student(dest: Path, assignment: str, student: str = "alice") -> Path:
    """A course copy in ``dest`` with ``assignment`` generated and the demo ``student``'s answers submitted."""
    from grader_utils.instructor.demo import build_submission, read_answers

    course = copy_course(dest)
    nbgrader(course, "generate_assignment", assignment, "--force")
    for nb in (course / "release" / assignment).glob("*.ipynb"):
        build_submission(nb, read_answers(ROOT / "demo" / assignment / f"{student}.py"),
                         course / "submitted" / student / assignment / nb.name)
    return course


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course copy in which ``nbgrader generate_assignment`` has just written release/."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    for a in assignments():
        nbgrader(course, "generate_assignment", a, "--force")
    return course


@pytest.fixture(scope="session")
def graded_course(generated_course: Path) -> Path:
    """The generated course with three kinds of submission per assignment, all autograded:
    ``solution`` (the instructor's notebook submitted as a student), ``untouched`` (the
    release notebook as is) and the demo class."""
    from grader_utils.instructor.demo import build_demo_class

    course = generated_course
    for a in assignments():
        for student, src in (("solution", course / "source" / a), ("untouched", course / "release" / a)):
            dest = course / "submitted" / student / a
            dest.mkdir(parents=True)
            for nb in src.glob("*.ipynb"):
                shutil.copy(nb, dest / nb.name)
    build_demo_class(course)
    from grader_utils.instructor.pipeline import grade_assignments

    # what `make grade` runs: parallel workers, sandboxed kernels, the trusted engine's verdicts
    outcomes = grade_assignments(course, assignments(), jobs=2)
    failed = [o for o in outcomes if o.status != "graded"]
    assert not failed, failed
    for a in assignments():
        nbgrader(course, "generate_feedback", a, "--force")
    return course


@pytest.fixture(scope="session")
def scores(graded_course: Path) -> dict[str, dict]:
    """{assignment: score_table(...)} read from the graded course's gradebook."""
    from grader_utils.instructor.table import score_table

    db = f"sqlite:///{graded_course / 'gradebook.db'}"
    return {a: score_table(db, a) for a in assignments()}


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
