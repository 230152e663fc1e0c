"""Helpers for the hub's tests (tests/test_hub.py, tests/test_hub_cycle.py): a real JupyterHub started by
hub/setup.sh and hub/jupyterhub_config.py as root, with its own account prefix, ports, state directory and
exchange (never a hub someone started with `make hub`), and what the tests do with it as its Unix users.

:func:`running_hub` stops the hub with SIGINT (Ctrl-C), checks that no process of its users is left running,
and removes the accounts and files it made.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from conftest import ROOT, VENV_BIN

START_TIMEOUT = 150  # seconds for a user's JupyterLab to come up on a busy 2-core machine
COURSE_ID = "cnn-course"


@dataclass
class Hub:
    url: str
    state: Path
    prefix: str
    passwords: dict[str, str]
    setup_output: str
    proc: subprocess.Popen

    @property
    def instructor(self) -> str:
        return f"{self.prefix}instructor"

    def student(self, i: int) -> str:
        return f"{self.prefix}student{i}"

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    @property
    def course(self) -> Path:
        """The instructor's course copy (gradebook, submissions, solutions)."""
        return home(self.instructor) / COURSE_ID

    @property
    def log(self) -> Path:
        """The hub's own log (JupyterHub's output), readable by root only."""
        return self.state / "private-hub.log"

    def server_url(self, user: str) -> str:
        return f"{self.url}/user/{user}"


def home(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def pids_of(uids: set[int]) -> list[int]:
    """Processes whose real or effective uid is one of ``uids``."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                status = (d / "status").read_text()
            except OSError:
                continue
            line = next(x for x in status.splitlines() if x.startswith("Uid:"))
            if {int(u) for u in line.split()[1:3]} & uids:
                pids.append(int(d.name))
    return pids


def wait_http(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def account_prefix(tag: str) -> str:
    """A fresh prefix for a test hub's Unix accounts: ``<tag><6 hex digits>-``."""
    return f"{tag}{secrets.token_hex(3)}-"


@contextlib.contextmanager
def running_hub(
    tag: str, students: int = 2, extra_env: dict[str, str] | None = None, prefix: str | None = None
) -> Iterator[Hub]:
    """hub/setup.sh, then JupyterHub, with accounts ``<tag><random>-instructor`` and ``...-student1..N``.

    extra_env: more settings for both (e.g. test_lti's ``CNN_HUB_AUTH=lti13``); prefix: the accounts' prefix,
    when the caller must know it before the hub starts (default ``<tag><random>-``, see :func:`account_prefix`)."""
    prefix = prefix or account_prefix(tag)
    state = Path(tempfile.mkdtemp(prefix="cnn-hub-test-", dir="/tmp"))
    state.chmod(0o711)  # as /srv/cnn-hub: the users read their role's config under it
    port, api_port, proxy_port = free_ports(3)
    env = dict(
        os.environ,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        CNN_HUB_STATE=str(state),
        CNN_HUB_PREFIX=prefix,
        CNN_HUB_STUDENTS=str(students),
        CNN_HUB_EXCHANGE=str(state / "exchange"),
        CNN_HUB_PORT=str(port),
        CNN_HUB_API_PORT=str(api_port),
        CNN_HUB_PROXY_API_PORT=str(proxy_port),
        CNN_HUB_VENV=str(VENV_BIN.parent),
        **(extra_env or {}),
    )
    users = [f"{prefix}instructor", *(f"{prefix}student{i}" for i in range(1, students + 1))]
    proc = None
    log = state / "private-hub.log"
    try:
        setup = subprocess.run([str(ROOT / "hub" / "setup.sh")], env=env, capture_output=True, text=True, timeout=600)
        assert setup.returncode == 0, f"hub/setup.sh failed:\n{setup.stdout}\n{setup.stderr}"
        passwords = dict(line.split() for line in (state / "private" / "accounts.txt").read_text().splitlines())
        with open(log, "w") as out:
            os.chmod(log, 0o600)
            proc = subprocess.Popen(
                [str(VENV_BIN / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py")],
                cwd=state / "private",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/hub/api/", 90)
        yield Hub(url, state, prefix, passwords, setup.stdout, proc)
    finally:
        uids = set()
        for u in users:
            try:
                uids.add(pwd.getpwnam(u).pw_uid)
            except KeyError:
                pass
        leftovers = []
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C does to `make hub`
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            time.sleep(1)
            leftovers = pids_of(uids)
            for pid in leftovers:  # only the servers this test's hub started, as this test's users
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for u in users:
            if u in {pwd_entry.pw_name for pwd_entry in pwd.getpwall()}:
                subprocess.run(["userdel", "--remove", u], capture_output=True)
        hub_log = log.read_text() if log.exists() else ""
        shutil.rmtree(state, ignore_errors=True)
        assert not leftovers, f"processes of the hub's users still ran after SIGINT: {leftovers}\n{hub_log[-3000:]}"


def login(hub: Hub, user: str, password: str) -> tuple[requests.Session, requests.Response]:
    """The hub's login form, posted with ``requests`` (the browser test fills the same form in Chromium)."""
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30).raise_for_status()
    r = s.post(
        f"{hub.url}/hub/login",
        timeout=60,
        allow_redirects=False,
        data={"username": user, "password": password, "_xsrf": s.cookies.get("_xsrf", path="/hub/")},
    )
    return s, r


def start_server(hub: Hub, s: requests.Session, user: str) -> None:
    """Start ``user``'s server through the hub's REST API with the user's own login, and wait until it is ready."""
    xsrf = {"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}
    r = s.post(f"{hub.url}/hub/api/users/{user}/server", headers=xsrf, timeout=60)
    assert r.status_code in (201, 202), f"starting {user}'s server: {r.status_code} {r.text}"
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        info = s.get(f"{hub.url}/hub/api/users/{user}", headers=xsrf, timeout=30).json()
        server = info.get("servers", {}).get("")
        if server and server.get("ready"):
            return
        assert server or info.get("pending"), f"{user}'s server stopped while starting: {info}"
        time.sleep(1)
    raise AssertionError(f"{user}'s server was not ready within {START_TIMEOUT} s")


def server_pids(user: str) -> list[int]:
    """The single-user servers the hub started for ``user`` (JUPYTERHUB_USER in their environment)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                environ = (d / "environ").read_bytes().split(b"\0")
                cmdline = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if f"JUPYTERHUB_USER={user}".encode() in environ and b"jupyterhub-singleuser" in cmdline:
                pids.append(int(d.name))
    return pids


def descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process below ``pid`` (read from /proc, at this moment)."""
    children: dict[int, list[int]] = {}
    cmdlines: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                cmdlines[int(d.name)] = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d.name))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found[p] = cmdlines.get(p, "")
        todo.extend(children.get(p, []))
    return found


def lab_page_config(html: str) -> dict:
    """The page config JupyterLab embeds in its page (``disabledExtensions`` among it)."""
    m = re.search(r'<script[^>]*id="jupyter-config-data"[^>]*>(.*?)</script>', html, re.S)
    assert m, f"no JupyterLab page config in:\n{html[:2000]}"
    return json.loads(m.group(1))


def as_user(user: str, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``cmd`` as the Unix user ``user`` (as the hub runs their server), from their home."""
    return subprocess.run(
        ["runuser", "-u", user, "--", *cmd],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        cwd=home(user),
    )


def as_role(
    hub: Hub | Any, user: str, *cmd: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``cmd`` as ``user`` with a clean environment and their role's Jupyter config (as in a terminal of their
    hub server). ``hub``: a :class:`Hub`, or anything with its ``state`` and ``instructor`` (test_exchange's
    course without a hub server)."""
    role = "instructor" if user == hub.instructor else "student"
    env = [
        "env",
        "-i",
        f"HOME={home(user)}",
        f"USER={user}",
        "LANG=C.UTF-8",
        f"PATH={VENV_BIN}:/usr/bin:/bin",
        f"JUPYTER_CONFIG_PATH={hub.state / 'jupyter' / role}",
    ]
    return subprocess.run(
        ["runuser", "-u", user, "--", *env, *cmd],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        cwd=cwd or home(user),
    )


def server_xsrf(s: requests.Session, user: str) -> dict[str, str]:
    return {"X-XSRFToken": s.cookies.get("_xsrf", path=f"/user/{user}/")}
