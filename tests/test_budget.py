"""instructor/budget.py: the grading worker's own memory and CPU limits, and their sizes.

The limits are tried on real child processes: one allocates past its memory limit (MemoryError), one computes past
its CPU time (the kernel ends it with SIGXCPU, which the pool reports as the submission's reason)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from grader_utils.instructor import budget

GiB = 1024**3


def test_jobs_workers_and_their_sandboxes_fit_the_machine():
    one = budget.plan(1, total_bytes=24 * GiB, sandbox_bytes=12 * GiB)
    assert (one.worker_bytes, one.sandbox_bytes) == (6 * GiB, 12 * GiB)
    two = budget.plan(2, total_bytes=24 * GiB, sandbox_bytes=12 * GiB)  # the machine at --jobs 2
    assert (two.worker_bytes, two.sandbox_bytes) == (4 * GiB, 8 * GiB)
    for jobs in (1, 2, 3, 4):
        b = budget.plan(jobs, total_bytes=64 * GiB, sandbox_bytes=12 * GiB)
        assert jobs * (b.worker_bytes + b.sandbox_bytes) <= 64 * GiB
        assert b.worker_bytes >= budget.MIN_WORKER_BYTES and b.sandbox_bytes >= budget.MIN_SANDBOX_BYTES
    # a machine too small for its jobs: each still gets the least it needs (docs/security.md says so)
    small = budget.plan(4, total_bytes=8 * GiB, sandbox_bytes=12 * GiB)
    assert (small.worker_bytes, small.sandbox_bytes) == (budget.MIN_WORKER_BYTES, budget.MIN_SANDBOX_BYTES)
    assert budget.plan(0).worker_bytes >= budget.MIN_WORKER_BYTES  # jobs < 1 counts as 1
    assert budget.machine_memory() > 0


def _child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


def test_a_worker_that_allocates_past_its_limit_gets_a_memory_error():
    proc = _child(
        """
        import os
        from grader_utils.instructor import budget
        budget.apply_worker(budget.Budget(worker_bytes=600 * 1024**2, sandbox_bytes=5 * 1024**3, cpu_per_second=1))
        small = bytearray(100 * 1024**2)  # within the limit
        print(os.environ[budget.SANDBOX_MEMORY_ENV])
        try:
            big = bytearray(2 * 1024**3)  # what a 3 MB compressed array became in the grading process
        except MemoryError:
            print("MemoryError")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(5 * 1024**3), "MemoryError"]


def test_the_worker_memory_limit_can_be_set_from_outside(monkeypatch):
    monkeypatch.setenv(budget.WORKER_MEMORY_ENV, str(300 * 1024**2))
    proc = _child(
        """
        from grader_utils.instructor import budget
        budget.apply_worker(budget.plan(1))
        try:
            bytearray(1024**3)
        except MemoryError:
            print("MemoryError")
        """
    )
    assert proc.stdout.strip() == "MemoryError", proc.stderr


def test_a_task_past_its_cpu_time_ends_its_worker_with_a_stated_reason():
    proc = _child(
        """
        from grader_utils.instructor import budget
        b = budget.Budget(worker_bytes=4 * 1024**3, sandbox_bytes=4 * 1024**3, cpu_per_second=1)
        budget.start_task(b, 1)
        while True:
            pass
        """,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGXCPU
    assert "CPU time limit" in budget.exit_reason(proc.returncode)
    assert "out of memory" in budget.exit_reason(-signal.SIGKILL)
    assert budget.exit_reason(3) == "the grading process died (exit code 3)"


@pytest.mark.sandbox
def test_the_sandbox_gets_the_size_the_budget_gave_it(monkeypatch, tmp_path):
    from grader_utils.sandbox.bwrap import Limits, bwrap_args
    from grader_utils.sandbox.kernel import KERNEL_LIMITS, SandboxedKernelManager

    monkeypatch.setenv(budget.SANDBOX_MEMORY_ENV, str(5 * GiB))
    assert SandboxedKernelManager().memory_bytes == 5 * GiB
    monkeypatch.delenv(budget.SANDBOX_MEMORY_ENV)
    assert SandboxedKernelManager().memory_bytes == KERNEL_LIMITS.memory_bytes
    # the sandbox's data limit is its own, not the worker's it would inherit
    args = bwrap_args(tmp_path, limits=Limits(memory_bytes=5 * GiB))
    assert f"--data={5 * GiB}" in args
