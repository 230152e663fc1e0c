"""sandbox/locked_kernel.py: the grading kernel of NumPy-only notebooks locks first, and runs nothing when it
cannot (the lock itself: test_native_lock.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_locked_kernel_runs_no_student_code_when_the_lock_fails(tmp_path):
    """The grading kernel of NumPy-only notebooks exits before any cell when it cannot lock."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    boot = (
        "import sys, grader_utils.sandbox.native_lock as n\n"
        "def broken(): raise n.LockError('no seccomp here')\n"
        "n.lock = broken\n"
        "sys.argv = ['locked_kernel', '-f', 'kernel.json']\n"
        "import runpy; runpy.run_module('grader_utils.sandbox.locked_kernel', run_name='__main__')"
    )
    run = subprocess.run(
        [sys.executable, "-c", boot],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert run.returncode != 0 and "no seccomp here" in run.stderr, run.stderr[-2000:]
