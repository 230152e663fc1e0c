"""A broken grading environment grades nobody and loses no grade (issue #24; #23 item 6), at the level of
``cnn-course grade`` on a real class: a copy of the session's graded class (good grades in its gradebook, its
records and autograded notebooks), broken one way per test in the subprocess's environment only (PATH, PYTHONPATH,
TMPDIR, a course folder's contents), then graded; the gradebook must hold exactly the grades it held before.

Each break is cheap: the preflight finds it in the grading process it starts (seconds), except the killed worker
and the interrupted run, which grade one or two submissions for real.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN

A = "01_convolution"
#: demo students with full and partial marks in the graded class
STUDENTS = ["alice", "bob"]


@pytest.fixture(scope="module")
def course(graded_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the graded class that these tests may break and regrade (the session's stays as it is)."""
    dest = tmp_path_factory.mktemp("envfail") / "course"
    shutil.copytree(graded_course, dest, symlinks=True, ignore=shutil.ignore_patterns("feedback"))
    return dest


def _env(**changes: str) -> dict[str, str]:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.update(changes)
    return env


def grade(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    students = [f"--student={s}" for s in STUDENTS]
    return subprocess.run(
        [sys.executable, "-m", "grader_utils", "grade", A, "--root", str(course), "--no-progress", "--jobs=1"]
        + students
        + list(args),
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=1500,
    )


def grades(course: Path) -> dict[str, dict[str, float]]:
    """Every student's scores of the assignment, as the gradebook holds them."""
    from grader_utils.instructor.table import score_table

    return score_table(f"sqlite:///{course / 'gradebook.db'}", A)["students"]


def table_text(course: Path) -> str:
    return subprocess.run(
        [sys.executable, "-m", "grader_utils", "table", A, "--root", str(course)],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _not_graded(proc: subprocess.CompletedProcess, cause: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"0 graded, 0 failed, 0 timed out, {len(STUDENTS)} not graded (environment)" in proc.stdout, out
    assert cause in proc.stdout, out


def _path_without(program: str, folder: Path) -> str:
    """PATH with ``program`` gone: each folder holding it replaced by a folder of links to its other programs."""
    folder.mkdir(exist_ok=True)
    parts = []
    for part in _env()["PATH"].split(os.pathsep):
        if part and (Path(part) / program).exists():
            for entry in Path(part).iterdir():
                if entry.name != program and not (folder / entry.name).exists():
                    (folder / entry.name).symlink_to(entry)
            part = str(folder)
        parts.append(part)
    return os.pathsep.join(dict.fromkeys(parts))


def test_good_grades_are_in_the_gradebook_beforehand(course: Path):
    before = grades(course)
    assert sum(before["alice"].values()) == 7 and 0 < sum(before["bob"].values()) < 7


def test_missing_bubblewrap_grades_nobody(course: Path, tmp_path: Path):
    before = grades(course)
    proc = grade(course, env=_env(PATH=_path_without("bwrap", tmp_path / "bin")))
    _not_graded(proc, "`bwrap` is not installed")
    assert "apt-get install bubblewrap" in proc.stdout
    assert grades(course) == before


def test_tensorflow_that_cannot_import_grades_nobody(course: Path, tmp_path: Path):
    broken = tmp_path / "broken" / "tensorflow"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('this TensorFlow install is broken (a test)')\n")
    before = grades(course)
    proc = grade(course, env=_env(PYTHONPATH=str(broken.parent)))
    _not_graded(proc, "a grading process cannot start (ImportError: this TensorFlow install is broken")
    assert "make install" in proc.stdout
    assert grades(course) == before


def test_a_kernel_that_cannot_start_grades_nobody(course: Path, tmp_path: Path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: cannot start (a test)' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    env = _env()
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    before = grades(course)
    proc = grade(course, env=env)
    _not_graded(proc, "a sandboxed kernel cannot start")
    assert grades(course) == before


def test_a_kernel_that_cannot_start_during_the_run_keeps_every_grade_and_stops_the_run(course: Path, tmp_path: Path):
    """Without the preflight, each submission's kernel fails: told from a student's failure by the check without
    the student, the previous grade kept; the run stops after 3 in a row."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    env = _env()
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    before = grades(course)
    everyone = sorted(before)
    assert len(everyone) > 4
    proc = subprocess.run(
        [sys.executable, "-m", "grader_utils", "grade", A, "--root", str(course), "--no-progress", "--jobs=1"]
        + ["--no-preflight"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"0 graded, 0 failed, 0 timed out, {len(everyone)} not graded (environment)" in proc.stdout, out
    assert "the run stopped after 3 submissions in a row" in proc.stdout, out
    assert grades(course) == before
    assert "not graded" not in table_text(course)  # every grade is the previous one, kept
    record = course / "autograded" / "alice" / A / "convolution.grading.json"
    if not record.exists():
        record = next((course / "autograded" / "alice" / A).glob("*.grading.json"))
    assert '"not_graded"' in record.read_text() and '"status": "ok"' in record.read_text()


@pytest.mark.root(why="mounts a small tmpfs as the temporary folder")
def test_a_full_temporary_folder_grades_nobody(course: Path, tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    small = tmp_path / "small-tmp"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(small)], check=True)
    try:
        (small / "filler").write_bytes(b"\0" * (36 * 1024**2))  # 4 MiB left: files can be made, not kernels
        os.chmod(small, 0o1777)
        before = grades(course)
        proc = grade(course, env=_env(TMPDIR=str(small)))
        _not_graded(proc, "is full")
        assert grades(course) == before
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_a_moved_course_with_its_virtualenv_names_make_install(course: Path):
    """The course folder holds its own grader (as this repository does) but the Python that runs it imports the
    grader from another place: the virtualenv of the folder it was copied from."""
    shutil.copytree(ROOT / "grader_utils", course / "grader_utils", ignore=shutil.ignore_patterns("__pycache__"))
    try:
        before = grades(course)
        proc = grade(course)
        _not_graded(proc, f"runs the grader from {ROOT / 'grader_utils'}")
        assert f"run `make install` in {course}" in proc.stdout
        assert grades(course) == before
    finally:
        shutil.rmtree(course / "grader_utils")


def _ppid(pid: str) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _busy_worker(parent: int) -> int | None:
    """The grading worker (python -m grader_utils.instructor.workers --worker) of ``parent`` that runs a task: it
    has a child (the sandboxed kernel's process tree)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            children = (proc / "task" / proc.name / "children").read_text().split()
            ppid = _ppid(proc.name)
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"grader_utils.instructor.workers" in cmd and b"--worker" in cmd and children:
            return int(proc.name)
    return None


def _start(course: Path, *students: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader_utils", "grade", A, "--root", str(course), "--no-progress", "--jobs=1"]
        + [f"--student={s}" for s in students],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_worker(proc: subprocess.Popen, seconds: float = 900) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        worker = _busy_worker(proc.pid)
        if worker is not None:
            return worker
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("no worker took a task")


def test_a_worker_killed_from_outside_is_graded_on_a_new_worker(course: Path):
    before = grades(course)
    proc = _start(course, "alice")
    os.kill(_wait_for_worker(proc), signal.SIGKILL)
    out, err = proc.communicate(timeout=1500)
    assert proc.returncode == 0, out + err
    assert "1 graded, 0 failed" in out, out
    assert grades(course)["alice"] == before["alice"]


def test_an_interrupted_run_says_not_graded_and_a_rerun_finishes_it(course: Path):
    before = grades(course)
    proc = _start(course, "alice", "bob")
    worker = _wait_for_worker(proc)
    time.sleep(2)  # well into the first submission's grading
    os.killpg(proc.pid, signal.SIGKILL)  # the grading process, as an operator's kill -9 would
    os.killpg(os.getpgid(worker), signal.SIGKILL)  # and its worker (its own process group), as a reboot would
    proc.communicate()
    text = table_text(course)
    interrupted = [line for line in text.splitlines() if "not graded (run interrupted" in line]
    assert interrupted, text
    assert not any("0/7" in line for line in interrupted), text
    again = grade(course)
    assert again.returncode == 0, again.stdout + again.stderr
    assert grades(course) == before
    assert "not graded" not in table_text(course)


def test_the_formgraders_autograde_path_changes_no_grade_without_bubblewrap(course: Path, tmp_path: Path):
    """`nbgrader autograde` (what the formgrader's Autograde button runs) with the course's config: the sandboxed
    run checks the machine before it zeroes a score, so the failed autograde leaves the gradebook as it was."""
    before = grades(course)
    proc = subprocess.run(
        [str(VENV_BIN / "nbgrader"), "autograde", A, "--student=alice", "--force", f"--CourseDirectory.root={course}"],
        cwd=course,
        env=_env(PATH=_path_without("bwrap", tmp_path / "bin")),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "the grading environment failed" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert grades(course) == before
