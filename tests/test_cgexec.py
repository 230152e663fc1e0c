"""sandbox/cgexec.py: join the cgroups given (write one's own pid), then become the command; refuse to start a
sandbox whose group cannot be joined. Run as the kernel launcher runs it: by path, with ``-I``."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

CGEXEC = ROOT / "grader_utils" / "sandbox" / "cgexec.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(CGEXEC), *args], capture_output=True, text=True, timeout=60)


def test_it_writes_its_pid_into_each_group_then_becomes_the_command(tmp_path):
    procs = [tmp_path / "a.procs", tmp_path / "b.procs"]
    run = _run(*map(str, procs), "--", "sh", "-c", "echo $$")
    assert run.returncode == 0, run.stderr
    pid = run.stdout.strip()  # the shell's pid: the same process, after exec
    assert pid.isdigit() and [p.read_text() for p in procs] == [pid, pid]


def test_a_group_it_cannot_join_stops_the_command(tmp_path):
    run = _run(str(tmp_path / "no such folder" / "cgroup.procs"), "--", "sh", "-c", "echo started")
    assert run.returncode == 125 and "cannot join" in run.stderr and "started" not in run.stdout


def test_a_command_line_without_a_command_is_refused(tmp_path):
    assert "usage" in _run(str(tmp_path / "x")).stderr
    run = _run(str(tmp_path / "x"), "--")
    assert run.returncode == 1 and "no command" in run.stderr and not (tmp_path / "x").exists()
