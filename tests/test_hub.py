"""The course's JupyterHub (hub/, `make hub`): real Unix users log in through PAM, each user's server runs as
that user, the Formgrader is the instructor's only, students get nbgrader's Assignment List.

The module runs hub/setup.sh and JupyterHub as root with its own account names (a random prefix), ports, state
directory and exchange, so it never touches a hub someone started with `make hub`; it stops the hub with SIGINT
(Ctrl-C), checks that nothing of it is left running, and removes the accounts it made (tests/hub_utils.py).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN

pytestmark = pytest.mark.hub

requests = pytest.importorskip("requests")  # a JupyterHub dependency

from hub_utils import (  # noqa: E402
    Hub,
    as_user,
    lab_page_config,
    login,
    running_hub,
    server_pids,
    server_xsrf,
    start_server,
)


@pytest.fixture(scope="module")
def hub() -> Hub:
    with running_hub("cnnt") as h:
        yield h


@pytest.fixture(scope="module")
def student(hub: Hub) -> requests.Session:
    s, r = login(hub, hub.student(1), hub.passwords[hub.student(1)])
    assert r.status_code == 302, f"login failed: {r.status_code}"
    start_server(hub, s, hub.student(1))
    return s


@pytest.fixture(scope="module")
def instructor(hub: Hub) -> requests.Session:
    s, r = login(hub, hub.instructor, hub.passwords[hub.instructor])
    assert r.status_code == 302, f"login failed: {r.status_code}"
    start_server(hub, s, hub.instructor)
    return s


def test_setup_prints_the_url_and_the_accounts_once(hub: Hub) -> None:
    assert f"{hub.url}/" in hub.setup_output
    for user, password in hub.passwords.items():
        assert f"{user} {password}" in hub.setup_output
    assert sorted(hub.passwords) == sorted([hub.instructor, hub.student(1), hub.student(2)])
    assert (hub.state / "private").stat().st_mode & 0o777 == 0o700
    assert (hub.state / "private" / "accounts.txt").stat().st_mode & 0o777 == 0o600
    assert (hub.state / "exchange").stat().st_mode & 0o7777 == 0o1777
    rerun = subprocess.run(
        [str(ROOT / "hub" / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(
            os.environ,
            CNN_HUB_STATE=str(hub.state),
            CNN_HUB_PREFIX=hub.prefix,
            CNN_HUB_STUDENTS="2",
            CNN_HUB_EXCHANGE=str(hub.state / "exchange"),
            CNN_HUB_VENV=str(VENV_BIN.parent),
        ),
    )
    assert rerun.returncode == 0, rerun.stderr
    assert not any(p in rerun.stdout for p in hub.passwords.values()), "a second run shows the passwords again"


def test_a_wrong_password_is_refused(hub: Hub) -> None:
    s, r = login(hub, hub.student(1), hub.passwords[hub.student(1)] + "x")
    assert r.status_code == 403 and "jupyterhub-hub-login" not in s.cookies
    s, r = login(hub, hub.student(2), hub.passwords[hub.student(1)])  # another account's password
    assert r.status_code == 403 and "jupyterhub-hub-login" not in s.cookies
    s, r = login(hub, "root", "")  # not a course account
    assert r.status_code == 403


def test_the_real_password_logs_in(hub: Hub) -> None:
    s, r = login(hub, hub.student(2), hub.passwords[hub.student(2)])
    assert r.status_code == 302 and "jupyterhub-hub-login" in s.cookies
    who = s.get(f"{hub.url}/hub/api/user", timeout=30, headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")})
    assert who.status_code == 200 and who.json()["name"] == hub.student(2)


def test_the_students_server_runs_as_the_student(hub: Hub, student: requests.Session) -> None:
    user = hub.student(1)
    entry = pwd.getpwnam(user)
    pids = server_pids(user)
    assert pids, f"no jupyterhub-singleuser process for {user}"
    for pid in pids:
        uids = next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Uid:"))
        assert {int(u) for u in uids.split()[1:]} == {entry.pw_uid}, f"{user}'s server runs as {uids}"
    # What the student saves through JupyterLab lands in their home, owned by them.
    base = f"{hub.url}/user/{user}"
    assert student.get(f"{base}/lab", timeout=60).status_code == 200  # the OAuth hand-off from hub to server
    xsrf = {"X-XSRFToken": student.cookies.get("_xsrf", path=f"/user/{user}/")}
    r = student.put(
        f"{base}/api/contents/hello.txt",
        headers=xsrf,
        timeout=60,
        json={"type": "file", "format": "text", "content": "hello"},
    )
    assert r.status_code in (200, 201), r.text
    saved = Path(entry.pw_dir) / "hello.txt"
    assert saved.read_text() == "hello" and saved.stat().st_uid == entry.pw_uid


def test_the_student_has_the_assignment_list_and_no_formgrader(hub: Hub, student: requests.Session) -> None:
    base = f"{hub.url}/user/{hub.student(1)}"
    assert student.get(f"{base}/lab", timeout=60).status_code == 200
    r = student.get(f"{base}/assignments", params={"course_id": "cnn-course"}, timeout=60)
    assert r.status_code == 200 and r.json()["success"] is True, r.text
    assert student.get(f"{base}/formgrader", timeout=60).status_code == 404
    assert student.get(f"{base}/formgrader/api/assignments", timeout=60).status_code == 404
    lab = student.get(f"{base}/lab", timeout=60).text
    config = lab_page_config(lab)
    disabled = config.get("disabledExtensions", [])
    assert "@jupyter/nbgrader:formgrader" in disabled and "@jupyter/nbgrader:assignment-list" not in disabled


def test_the_instructor_has_the_formgrader_on_the_course(hub: Hub, instructor: requests.Session) -> None:
    user = hub.instructor
    base = f"{hub.url}/user/{user}"
    assert instructor.get(f"{base}/lab", timeout=60).status_code == 200
    assert instructor.get(f"{base}/formgrader", timeout=120).status_code == 200
    r = instructor.get(f"{base}/formgrader/api/assignments", timeout=120)
    assert r.status_code == 200, r.text
    assert {a["name"] for a in r.json()} >= {p.name for p in (ROOT / "source").iterdir() if p.is_dir()}
    entry = pwd.getpwnam(user)
    course = Path(entry.pw_dir) / "cnn-course"
    assert course.stat().st_uid == entry.pw_uid and course.stat().st_mode & 0o077 == 0
    gradebook = course / "gradebook.db"  # the formgrader made it, as the instructor
    assert gradebook.exists() and gradebook.stat().st_uid == entry.pw_uid
    lab = instructor.get(f"{base}/lab", timeout=60).text
    config = lab_page_config(lab)
    assert "@jupyter/nbgrader:formgrader" not in config.get("disabledExtensions", [])


def test_students_cannot_read_each_other_the_course_or_the_hubs_secrets(hub: Hub, instructor: requests.Session) -> None:
    s1, s2, teacher = hub.student(1), hub.student(2), hub.instructor
    home2 = Path(pwd.getpwnam(s2).pw_dir)
    course = Path(pwd.getpwnam(teacher).pw_dir) / "cnn-course"
    instructor.get(f"{hub.url}/user/{teacher}/formgrader/api/assignments", timeout=120).raise_for_status()
    assignment = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())[0]
    solution = next((course / "source" / assignment).glob("*.ipynb"))
    assert as_user(s2, "sh", "-c", f"echo mine > {home2}/notes.txt").returncode == 0
    # (path, who may read it): each must be readable by its owner, so a refusal below is a refusal of access
    private = [
        (home2 / "notes.txt", s2),
        (course / "gradebook.db", teacher),
        (solution, teacher),
        (hub.state / "private" / "accounts.txt", "root"),
        (hub.state / "private" / "jupyterhub_cookie_secret", "root"),
    ]
    for path, owner in private:
        if owner != "root":
            assert as_user(owner, "cat", str(path)).returncode == 0, f"{owner} cannot read their own {path}"
        assert path.exists(), path
        denied = as_user(s1, "cat", str(path))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, f"{s1} can read {path}"
    editions = [e / "source" for e in (ROOT / "editions").glob("*") if (e / "source").is_dir()]  # solutions too
    for folder in (home2, course, hub.state / "private", ROOT / "source", ROOT / "demo", *editions):
        assert as_user(s1, "ls", str(folder)).returncode != 0, f"{s1} can list {folder}"
    assert as_user(s1, "ls", str(ROOT / "release")).returncode == 0  # the student version is everyone's


def test_the_exchange_lets_students_add_but_not_remove_others_files(hub: Hub) -> None:
    s1, s2 = hub.student(1), hub.student(2)
    exchange = hub.state / "exchange"
    assert as_user(s1, "sh", "-c", f"echo one > {exchange}/from-s1 && echo two > {exchange}/from-s1-b").returncode == 0
    assert as_user(s2, "rm", "-f", str(exchange / "from-s1")).returncode != 0  # mode 1777: sticky
    assert (exchange / "from-s1").exists()
    assert as_user(s1, "rm", str(exchange / "from-s1-b")).returncode == 0


def test_the_instructor_releases_from_the_formgrader_and_the_student_fetches(
    hub: Hub, instructor: requests.Session, student: requests.Session
) -> None:
    teacher, s1 = hub.instructor, hub.student(1)
    assignment = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())[0]
    tbase, sbase = f"{hub.url}/user/{teacher}", f"{hub.url}/user/{s1}"
    for s, base in ((instructor, tbase), (student, sbase)):
        assert s.get(f"{base}/lab", timeout=60).status_code == 200
    r = instructor.post(
        f"{tbase}/formgrader/api/assignment/{assignment}/release", headers=server_xsrf(instructor, teacher), timeout=120
    )
    assert r.status_code == 200 and r.json()["success"], r.text
    outbound = hub.state / "exchange" / "cnn-course" / "outbound" / assignment
    assert outbound.stat().st_uid == pwd.getpwnam(teacher).pw_uid
    listed = student.get(f"{sbase}/assignments", params={"course_id": "cnn-course"}, timeout=60).json()
    assert listed["success"], listed  # the student's nbgrader reads the hub's exchange
    assert {(a["assignment_id"], a["status"]) for a in listed["value"]} == {(assignment, "released")}
    r = student.post(
        f"{sbase}/assignments/fetch",
        headers=server_xsrf(student, s1),
        timeout=120,
        data={"course_id": "cnn-course", "assignment_id": assignment},
    )
    assert r.status_code == 200 and r.json()["success"], r.text
    entry = pwd.getpwnam(s1)
    fetched = sorted((Path(entry.pw_dir) / assignment).glob("*.ipynb"))
    assert [p.name for p in fetched] == sorted(p.name for p in (ROOT / "release" / assignment).glob("*.ipynb"))
    assert all(p.stat().st_uid == entry.pw_uid for p in fetched)
