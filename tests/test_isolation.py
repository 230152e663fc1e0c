"""Sandboxes isolated from each other and from the host's files (real bubblewrap, real cgroups).

* Two concurrent sandboxes get different user ids, and one that holds as many threads or
  processes as its own limit allows does not make a concurrent correct run fail (with one
  shared user, the correct run could not even start: ``exit 126``).
* Memory is limited over all processes of a sandbox: four children of 1.5 GB each under a
  4 GB limit get the run killed; four of 0.4 GB pass.
* Only an allow-list of the disk is visible: files in /opt, /var/tmp, /root or another folder
  of /tmp are not, nor packages of the base Python's site-packages; the virtualenv's NumPy and
  TensorFlow import.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT
from grader_utils.sandbox.bwrap import Limits
from grader_utils.sandbox.runner import run_sandboxed

pytestmark = pytest.mark.sandbox

root_only = pytest.mark.root(why="a user id and a cgroup per sandbox")


def _run(code: str, scratch: Path | None = None, **kwargs):
    scratch = scratch or Path(tempfile.mkdtemp(prefix="sandbox-"))
    (scratch / "main.py").write_text(code)
    return run_sandboxed(
        [sys.executable, "main.py"], scratch, hide=[ROOT], expose=[ROOT / ".venv", ROOT / "grader_utils"], **kwargs
    )


HOG = {
    # as many threads / processes as the sandbox's own limit allows, held until the test says so
    "threads": """
import os, threading, time
held = 0
def hold():
    while not os.path.exists("release"):
        time.sleep(0.05)
try:
    for _ in range(10_000):
        threading.Thread(target=hold, daemon=True).start()
        held += 1
except RuntimeError:
    pass
open("full.tmp", "w").write(f"{os.getuid()} {held}")
os.rename("full.tmp", "full")
hold()
""",
    "processes": """
import os, time
held = 0
try:
    for _ in range(10_000):
        if os.fork() == 0:
            while not os.path.exists("release"):
                time.sleep(0.2)
            os._exit(0)
        held += 1
except OSError:
    pass
open("full.tmp", "w").write(f"{os.getuid()} {held}")
os.rename("full.tmp", "full")
while not os.path.exists("release"):
    time.sleep(0.05)
""",
}

CORRECT = """
import os, subprocess, sys, threading
threads = [threading.Thread(target=lambda: None) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
print(os.getuid(), child.stdout.strip())
"""


@root_only
@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_a_hog_at_its_process_limit_does_not_fail_a_concurrent_correct_run(kind):
    limits = Limits(wall_seconds=60, processes=48)
    for _ in range(3):
        hog_scratch = Path(tempfile.mkdtemp(prefix="sandbox-"))
        hog_result = []
        hog = threading.Thread(
            target=lambda out=hog_result, scratch=hog_scratch: out.append(_run(HOG[kind], scratch, limits=limits))
        )
        hog.start()
        try:
            deadline = time.monotonic() + 30
            while not (hog_scratch / "full").exists():
                assert time.monotonic() < deadline and hog.is_alive(), hog_result and hog_result[0].stderr
                time.sleep(0.05)
            hog_uid, held = map(int, (hog_scratch / "full").read_text().split())
            correct = _run(CORRECT, limits=limits)
        finally:
            (hog_scratch / "release").write_text("")
            hog.join(60)
        assert correct.ok, (correct.returncode, correct.stderr[-2000:])
        assert held >= limits.processes - 8  # the hog really used up its own limit (and no one else's)
        uid, answer = correct.stdout.split()
        assert answer == "42"
        assert int(uid) != hog_uid
        from grader_utils.sandbox.isolation import UID_BASE, UID_COUNT

        assert UID_BASE <= int(uid) < UID_BASE + UID_COUNT and UID_BASE <= hog_uid < UID_BASE + UID_COUNT
        shutil.rmtree(hog_scratch, ignore_errors=True)


MEMORY = """
import os, time
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = b"x" * int({gib} * 1024 ** 3)  # really used (filled), not just reserved
        time.sleep(3)
        os._exit(0)
    pids.append(pid)
codes = [os.waitpid(p, 0)[1] for p in pids]
print("children", codes)
"""


@root_only
def test_memory_is_limited_over_all_processes_of_a_sandbox():
    limits = Limits(wall_seconds=120, memory_bytes=4 * 1024**3)
    over = _run(MEMORY.format(gib=1.5), limits=limits)
    assert not over.ok and over.memory_exceeded, (over.returncode, over.stdout, over.stderr[-2000:])
    assert any("memory" in note for note in over.notes)
    within = _run(MEMORY.format(gib=0.4), limits=limits)
    assert within.ok, (within.returncode, within.stderr[-2000:], within.notes)
    assert within.stdout.strip() == "children [0, 0, 0, 0]"


def test_only_the_allow_list_of_the_disk_is_visible():
    secrets = []
    made = []
    for parent in ("/opt", "/var/tmp", "/root", tempfile.gettempdir()):
        if not os.access(parent, os.W_OK):
            continue
        folder = Path(tempfile.mkdtemp(prefix="other-course-", dir=parent))
        os.chmod(folder, 0o755)
        (folder / "gradebook.txt").write_text("secret")
        os.chmod(folder / "gradebook.txt", 0o644)
        made.append(folder)
        secrets.append(str(folder / "gradebook.txt"))
    base_site = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"])
    probe = f"isoprobe_{uuid.uuid4().hex[:8]}"
    if sys.prefix != sys.base_prefix and os.access(base_site, os.W_OK):
        (base_site / probe).mkdir()
        (base_site / probe / "__init__.py").write_text("VALUE = 'from the base Python'\n")
        made.append(base_site / probe)
    else:
        probe = ""
    try:
        result = _run(
            f"""
import os, sys
for path in {secrets!r}:
    try:
        print("read", path, open(path).read())
    except OSError as exc:
        print("unreadable", type(exc).__name__)
if {probe!r}:
    sys.path.append({str(base_site)!r})
    try:
        __import__({probe!r})
        print("imported the base Python's package")
    except ImportError:
        print("base package hidden")
print("base site-packages", os.listdir({str(base_site)!r}) if {probe!r} else [])
print("debian dist-packages", os.listdir("/usr/lib/python3/dist-packages")
      if os.path.isdir("/usr/lib/python3/dist-packages") else [])
import numpy, tensorflow as tf
print("numpy", numpy.ones(3).sum(), "tensorflow", tf.constant(2).numpy() * 3)
""",
            limits=Limits(wall_seconds=180, cpu_seconds=180, memory_bytes=12 * 1024**3, processes=256),
        )
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
    assert result.ok, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert secrets and [line for line in lines if line.startswith("read")] == []
    assert len([line for line in lines if line.startswith("unreadable")]) == len(secrets)
    if probe:
        assert "base package hidden" in lines
    assert "base site-packages []" in lines
    assert "debian dist-packages []" in lines
    assert "numpy 3.0 tensorflow 6" in lines
