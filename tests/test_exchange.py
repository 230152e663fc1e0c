"""nbgrader's exchange on the hub, as the hub's real Unix users (issue #14, item 3): nobody submits in another
student's name, and a student cannot reach another student's submission or feedback.

The module runs hub/setup.sh (no hub server: only the accounts, the exchange, the course copy and the per-role
config) with its own random account prefix, state folder and exchange, runs nbgrader's real command line as the
instructor and two students with ``runuser`` and each role's config (as their hub servers and terminals have it),
and removes the accounts afterwards. Student A (student1) submits normally; student B (student2) submits too, then
forges a folder in A's name, a folder that is a symlink to the instructor's solutions, a folder with a FIFO, and a
symlink to the instructor's solution inside B's real submission.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN

pytestmark = pytest.mark.hub

ASSIGNMENT = "01_convolution"
COURSE_ID = "cnn-course"
FORGED_TS = "2099-01-01 00:00:00.000000 UTC"  # later than any real submission: nbgrader's default would pick it


@dataclass
class Class:
    state: Path
    exchange: Path
    instructor: str
    a: str
    b: str

    @property
    def course(self) -> Path:
        return Path(pwd.getpwnam(self.instructor).pw_dir) / COURSE_ID

    @property
    def inbound(self) -> Path:
        return self.exchange / COURSE_ID / "inbound"

    def run(self, user: str, *cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """``cmd`` as the Unix user ``user`` with a clean environment and their role's Jupyter config."""
        from hub_utils import as_role

        return as_role(self, user, *cmd, cwd=cwd)

    def ok(self, user: str, *cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        r = self.run(user, *cmd, cwd=cwd)
        assert r.returncode == 0, f"{user}: {' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}"
        return r


@pytest.fixture(scope="module")
def klass() -> Class:
    prefix = f"cnnx{secrets.token_hex(3)}-"
    state = Path(tempfile.mkdtemp(prefix="cnn-exchange-test-", dir="/tmp"))
    state.chmod(0o711)
    env = dict(
        os.environ,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        CNN_HUB_STATE=str(state),
        CNN_HUB_PREFIX=prefix,
        CNN_HUB_STUDENTS="2",
        CNN_HUB_EXCHANGE=str(state / "exchange"),
        CNN_HUB_VENV=str(VENV_BIN.parent),
    )
    users = [f"{prefix}instructor", f"{prefix}student1", f"{prefix}student2"]
    try:
        setup = subprocess.run([str(ROOT / "hub" / "setup.sh")], env=env, capture_output=True, text=True, timeout=600)
        assert setup.returncode == 0, f"hub/setup.sh failed:\n{setup.stdout}\n{setup.stderr}"
        yield Class(state, state / "exchange", *users)
    finally:
        for u in users:
            if subprocess.run(["id", "-u", u], capture_output=True).returncode == 0:
                subprocess.run(["userdel", "--remove", u], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


@dataclass
class Scenario:
    a_submission: Path  # A's real inbound folder
    b_submission: Path  # B's real inbound folder, with B's planted symlink in it
    forgeries: dict[Path, str]  # forged inbound folder -> what collect must say about it
    solution: Path  # a file only the instructor can read


@pytest.fixture(scope="module")
def scenario(klass: Class) -> Scenario:
    k = klass
    k.ok(k.instructor, "nbgrader", "release_assignment", ASSIGNMENT, cwd=k.course)
    submitted = {}
    for student, mark in ((k.a, "A's own work"), (k.b, "B's own work")):
        k.ok(student, "nbgrader", "fetch_assignment", ASSIGNMENT)
        k.ok(student, "sh", "-c", f'echo "{mark}" > {ASSIGNMENT}/marker.txt')
        r = k.ok(student, "nbgrader", "submit", ASSIGNMENT)
        m = re.search(r"Destination: (\S.*)$", r.stdout + r.stderr, re.M)
        assert m, r.stderr
        submitted[student] = Path(m.group(1).strip())
    solution = next((k.course / "source" / ASSIGNMENT).glob("*.ipynb"))
    assert k.run(k.b, "cat", str(solution)).returncode != 0, "B can read the solution directly"
    # B forges a submission in A's name (later timestamp), a symlinked folder and a folder with a FIFO,
    # and plants a symlink to the solution in B's real submission (B owns that folder: nbgrader makes it 0777).
    in_a_name = k.inbound / f"{k.a}+{ASSIGNMENT}+{FORGED_TS}+forged"
    link_dir = k.inbound / f"{k.b}+{ASSIGNMENT}+2098-01-01 00:00:00.000000 UTC+link"
    fifo_dir = k.inbound / f"{k.b}+{ASSIGNMENT}+2097-01-01 00:00:00.000000 UTC+fifo"
    nb = solution.name
    k.ok(
        k.b,
        "sh",
        "-c",
        f"mkdir '{in_a_name}' && cp {pwd.getpwnam(k.b).pw_dir}/{ASSIGNMENT}/{nb} '{in_a_name}/' "
        f"&& echo 'forged by B' > '{in_a_name}/marker.txt' "
        f"&& ln -s {solution.parent} '{link_dir}' "
        f"&& mkdir '{fifo_dir}' && mkfifo '{fifo_dir}/{nb}' "
        f"&& ln -s {solution} '{submitted[k.b]}/stolen.ipynb'",
    )
    forgeries = {
        in_a_name: f"claims student id '{k.a}' but is owned by {k.b}",
        link_dir: "is a symlink",
        fifo_dir: "is not a plain file or folder",
        submitted[k.b]: "stolen.ipynb is a symlink",
    }
    return Scenario(submitted[k.a], submitted[k.b], forgeries, solution)


def _collect(k: Class, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    """The instructor's real ``nbgrader collect`` (their role's config), into a fresh ``submitted/``."""
    submitted = k.course / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    return k.ok(k.instructor, "nbgrader", "collect", ASSIGNMENT, *extra, cwd=k.course), submitted


def _all_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_nbgraders_own_collect_is_fooled(klass: Class, scenario: Scenario) -> None:
    """The threat is real: nbgrader's default collect takes the forgery as A's work and B's link to the solution."""
    r, submitted = _collect(klass, "--ExchangeFactory.collect=nbgrader.exchange.default.collect.ExchangeCollect")
    assert (submitted / klass.a / ASSIGNMENT / "marker.txt").read_text() == "forged by B\n"
    assert "BEGIN SOLUTION" in _all_text(submitted / klass.b), "the default collect did not copy the solution"


def test_collect_takes_the_real_submission_and_refuses_every_forgery(klass: Class, scenario: Scenario) -> None:
    r, submitted = _collect(klass)
    out = r.stdout + r.stderr
    assert (submitted / klass.a / ASSIGNMENT / "marker.txt").read_text() == "A's own work\n", out
    assert (submitted / klass.a / ASSIGNMENT / scenario.solution.name).is_file()
    assert not (submitted / klass.b).exists(), f"something of B's was collected:\n{out}"
    assert "BEGIN SOLUTION" not in _all_text(submitted), "a student's link brought the solution into submitted/"
    assert not [p for p in submitted.rglob("*") if p.is_symlink()]
    for folder, why in scenario.forgeries.items():
        line = next((x for x in out.splitlines() if f"Not collecting {folder}" in x), None)
        assert line is not None and why in line, f"collect did not refuse {folder.name} saying '{why}':\n{out}"
    assert f"Not collecting {scenario.a_submission}" not in out  # A's real submission raises no alarm
    assert len(re.findall("Not collecting", out)) == len(scenario.forgeries), out


def _listed(out: str) -> str:
    """The submission lines of ``nbgrader list --inbound`` (its warnings left out)."""
    return "\n".join(ln for ln in out.splitlines() if f" {ASSIGNMENT} " in ln and "Not listing" not in ln)


def test_the_inbound_list_shows_no_forgery(klass: Class, scenario: Scenario) -> None:
    """nbgrader's default ``nbgrader list --inbound`` lists B's folder in A's name as A's submission; the course's
    list (the instructor's role config) lists A's real submission only and names each folder it leaves out, with
    the reason collect gives. (nbgrader's default list of every student would not even finish: it opens B's FIFO
    named like a notebook to hash it, and waits forever; so it is run for A's id only.)"""
    k = klass
    default = k.ok(
        k.instructor,
        "nbgrader",
        "list",
        "--inbound",
        f"--student={k.a}",
        "--ExchangeFactory.list=nbgrader.exchange.default.list.ExchangeList",
        cwd=k.course,
    )
    course = k.ok(k.instructor, "nbgrader", "list", "--inbound", cwd=k.course)
    a_real = f"{k.a} {ASSIGNMENT} {scenario.a_submission.name.split('+')[2]}"
    a_forged = f"{k.a} {ASSIGNMENT} {FORGED_TS}"
    listed_by_default, listed = _listed(default.stdout + default.stderr), _listed(course.stdout + course.stderr)
    assert a_real in listed_by_default and a_forged in listed_by_default, listed_by_default  # the threat is real
    assert listed.splitlines() == [next(ln for ln in listed.splitlines() if a_real in ln)], listed
    out = course.stdout + course.stderr
    for folder, why in scenario.forgeries.items():
        line = next((ln for ln in out.splitlines() if f"Not listing {folder}" in ln), None)
        assert line is not None and why in line, f"list did not name {folder.name} saying '{why}':\n{out}"


def test_the_outbound_lists_keep_working(klass: Class, scenario: Scenario) -> None:
    """The course's list class changes the inbound listing only: the instructor's and a student's list of the
    released assignments are nbgrader's."""
    k = klass
    for user in (k.instructor, k.b):
        r = k.ok(user, "nbgrader", "list", cwd=k.course if user == k.instructor else None)
        assert f"{COURSE_ID} {ASSIGNMENT}" in r.stdout + r.stderr, f"{user}: {r.stdout}{r.stderr}"
        assert "Not listing" not in r.stdout + r.stderr


def test_a_student_cannot_list_the_inbound_or_feedback_folders(klass: Class, scenario: Scenario) -> None:
    k = klass
    assert k.run(k.a, "ls", str(scenario.a_submission)).returncode == 0
    denied = k.run(k.b, "ls", str(k.inbound))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr, "B can list the inbound folder"
    for name in ("marker.txt", "submission_secret.txt", scenario.solution.name):
        assert k.run(k.a, "cat", str(scenario.a_submission / name)).returncode == 0, f"A cannot read their {name}"
        denied = k.run(k.b, "cat", str(scenario.a_submission / name))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, f"B can read A's submitted {name}"
    assert k.run(k.b, "ls", str(scenario.a_submission)).returncode != 0, "B can list A's submission"


def test_a_student_fetches_their_own_feedback_and_nobody_elses(klass: Class, scenario: Scenario) -> None:
    """nbgrader's real release_feedback and fetch_feedback, with a feedback page the instructor puts in feedback/
    (generating it would mean autograding in the sandbox, which other tests cover)."""
    k = klass
    _collect(k)
    src = k.course / "submitted" / k.a / ASSIGNMENT
    fb = k.course / "feedback" / k.a / ASSIGNMENT
    page = scenario.solution.with_suffix(".html").name
    k.ok(
        k.instructor,
        "sh",
        "-c",
        f"mkdir -p {fb} && cp {src}/timestamp.txt {src}/submission_secret.txt {fb}/ "
        f"&& echo '<p>feedback for A</p>' > {fb}/{page}",
        cwd=k.course,
    )
    k.ok(k.instructor, "nbgrader", "release_feedback", ASSIGNMENT, cwd=k.course)
    outbound = k.exchange / COURSE_ID / "feedback"
    k.ok(k.a, "nbgrader", "fetch_feedback", ASSIGNMENT)
    fetched = list((Path(pwd.getpwnam(k.a).pw_dir) / ASSIGNMENT / "feedback").rglob(page))
    assert len(fetched) == 1 and "feedback for A" in fetched[0].read_text()
    k.run(k.b, "nbgrader", "fetch_feedback", ASSIGNMENT)
    assert "feedback for A" not in _all_text(Path(pwd.getpwnam(k.b).pw_dir))
    denied = k.run(k.b, "ls", str(outbound))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr, "B can list the released feedback"
    assert k.run(k.b, "cat", str(fetched[0])).returncode != 0, "B can read A's fetched feedback"
    # The released page's name is derived from A's submission secret, which B cannot read in the exchange.
    denied = k.run(k.b, "cat", str(scenario.a_submission / "submission_secret.txt"))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr, "B can read A's submission secret"


def test_nbgraders_own_submit_leaves_the_submission_readable(klass: Class, scenario: Scenario) -> None:
    """The threat the course's submit removes: with nbgrader's default, anyone who has the folder's name reads it."""
    k = klass
    r = k.ok(
        k.a,
        "nbgrader",
        "submit",
        ASSIGNMENT,
        "--ExchangeFactory.submit=nbgrader.exchange.default.submit.ExchangeSubmit",
    )
    dest = Path(re.search(r"Destination: (\S.*)$", r.stdout + r.stderr, re.M).group(1).strip())
    assert k.run(k.b, "cat", str(dest / "submission_secret.txt")).returncode == 0
