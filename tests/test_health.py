"""health: each check finds the problem it names, with a fix, and finds nothing on a sound machine."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from conftest import ROOT
from grader_utils.grading import health


def test_environment_errors_are_told_from_others():
    assert health.is_environment_error(OSError(errno.ENOSPC, "No space left on device"))
    assert health.is_environment_error(ModuleNotFoundError("No module named 'tensorflow'"))
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise RuntimeError("writing the record failed") from inner
    except RuntimeError as outer:
        assert health.is_environment_error(outer)
    assert not health.is_environment_error(ValueError("a wrong answer"))
    assert not health.is_environment_error(OSError(errno.ENOENT, "No such file"))


def test_a_nearly_full_disk_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert health.disk_problem(tmp_path) is None
    monkeypatch.setattr(health, "MIN_FREE_BYTES", 1 << 62)  # more than any disk holds
    problem = health.disk_problem(tmp_path)
    assert problem is not None and "is full" in problem.cause and "free space" in problem.fix


def test_a_moved_course_names_make_install(tmp_path: Path):
    assert health.moved_course_problem(ROOT) is None  # this checkout's venv runs this checkout's package
    copy = tmp_path / "course"
    (copy / "grader_utils").mkdir(parents=True)
    (copy / "grader_utils" / "__init__.py").write_text("")
    problem = health.moved_course_problem(copy)
    assert problem is not None
    assert str(ROOT / "grader_utils") in problem.cause and "make install" in problem.fix
    assert health.moved_course_problem(tmp_path) is None  # another course: the installed package is its grader


def test_a_missing_sandbox_program_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    problem = health.sandbox_problem()
    assert problem is not None and "bwrap" in problem.cause and "bubblewrap" in problem.fix
    assert health.environment_problem(None, kernel=False) == problem


@pytest.mark.sandbox
def test_a_sound_machine_starts_a_sandboxed_kernel():
    assert health.kernel_problem() is None
    assert health.environment_problem(ROOT) is None
