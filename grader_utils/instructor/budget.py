"""The grading worker's own memory and CPU limits, sized so that ``--jobs`` workers and their sandboxes fit.

The worker (:mod:`.workers`) is the process that judges: it reads what the sandbox returns, rebuilds
models, trains them. Everything it reads is size-checked first (``sandbox/protocol.py``,
``judge/model_bounds.py``, the output caps of ``grading/graded_run.py``); this module is the backstop
when a check misses something: the worker runs under limits of its own, so a submission that makes it
allocate or compute without end fails (0 points and a reason) instead of taking the machine, and the
class's run goes on with a new worker.

* **Memory**: ``RLIMIT_DATA`` (the process's heap and private anonymous mappings, where arrays and
  tensors live; since Linux 4.7). Not ``RLIMIT_AS``: TensorFlow reserves gigabytes of address space it
  never touches. Past the limit an allocation fails: Python raises ``MemoryError``, which fails the
  submission; a native allocation that aborts kills the worker, which fails it too.
* **CPU**: ``RLIMIT_CPU``, raised before each task to the CPU time used so far plus the task's share;
  past it the kernel sends ``SIGXCPU`` and the worker dies (its task is recorded as failed, with
  :func:`exit_reason`).
* **Sizes** (:func:`plan`): the machine's memory shared by ``jobs``; each share is one worker and one
  sandbox: the worker gets a quarter of it (at least :data:`MIN_WORKER_BYTES`), the sandbox the rest (at
  most what the kernel's own limit says, at least :data:`MIN_SANDBOX_BYTES`). The sandbox's size reaches
  the kernel through ``$CNN_SANDBOX_MEMORY_BYTES`` (read by ``sandbox/kernel.py``).

The limits are soft limits of the worker process only: the student's code never runs in it (it runs in the
sandbox, whose own limits are set by bubblewrap's launcher), so nothing the student writes can raise them.
"""

from __future__ import annotations

import os
import resource
import signal
from dataclasses import dataclass

__all__ = [
    "Budget",
    "JOBS_ENV",
    "MIN_SANDBOX_BYTES",
    "MIN_WORKER_BYTES",
    "SANDBOX_MEMORY_ENV",
    "apply_worker",
    "exit_reason",
    "machine_memory",
    "plan",
    "start_task",
]

#: the least a worker gets: TensorFlow, nbgrader and one model's training need ~0.6-1 GiB of data
MIN_WORKER_BYTES = 4 * 1024**3
#: the least a sandbox gets (its address space: TensorFlow in 03 reserves ~2-3 GiB of it)
MIN_SANDBOX_BYTES = 4 * 1024**3
#: how many workers share the machine (set by the local pool for its workers)
JOBS_ENV = "CNN_GRADING_JOBS"
#: the sandboxed kernel's memory limit, as the budget sized it
SANDBOX_MEMORY_ENV = "CNN_SANDBOX_MEMORY_BYTES"
#: the worker's memory limit (overrides the planned size: tests, a machine the instructor knows)
WORKER_MEMORY_ENV = "CNN_WORKER_MEMORY_BYTES"


@dataclass(frozen=True)
class Budget:
    """One worker's share of the machine: its own memory (bytes of data), its sandbox's memory (bytes),
    and CPU seconds per task per second of the task's time limit."""

    worker_bytes: int
    sandbox_bytes: int
    cpu_per_second: float


def machine_memory() -> int:
    """Bytes of physical memory, or the memory limit of this process's cgroup when it is smaller."""
    from pathlib import Path

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            limit = Path("/sys/fs/cgroup", path.lstrip("/"), "memory.max")
        elif "memory" in controllers.split(","):
            limit = Path("/sys/fs/cgroup/memory", path.lstrip("/"), "memory.limit_in_bytes")
        else:
            continue
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def plan(jobs: int, total_bytes: int | None = None, sandbox_bytes: int | None = None) -> Budget:
    """The budget of each of ``jobs`` workers on a machine of ``total_bytes`` (default: this one) whose
    sandboxes may use at most ``sandbox_bytes`` each (default: the kernel's configured limit)."""
    from ..sandbox.kernel import KERNEL_LIMITS

    jobs = max(1, int(jobs))
    total = machine_memory() if total_bytes is None else int(total_bytes)
    wanted = KERNEL_LIMITS.memory_bytes if sandbox_bytes is None else int(sandbox_bytes)
    share = total // jobs
    worker = max(MIN_WORKER_BYTES, share // 4)
    sandbox = max(MIN_SANDBOX_BYTES, min(wanted, share - worker))
    return Budget(worker_bytes=worker, sandbox_bytes=sandbox, cpu_per_second=float(os.cpu_count() or 1))


def apply_worker(budget: Budget) -> None:
    """Put the calling process (a worker) under ``budget``'s memory limit and tell the kernels it starts
    their sandbox's size. ``$CNN_WORKER_MEMORY_BYTES`` overrides the worker's size."""
    limit = int(os.environ.get(WORKER_MEMORY_ENV) or budget.worker_bytes)
    _soft(resource.RLIMIT_DATA, limit)
    os.environ[SANDBOX_MEMORY_ENV] = str(budget.sandbox_bytes)


def start_task(budget: Budget, seconds: float) -> None:
    """Before a task of ``seconds`` (its time limit): the worker may use that much more CPU time (times
    the machine's cores, as TensorFlow computes on all of them), then ``SIGXCPU`` ends it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft(resource.RLIMIT_CPU, int(used + max(1.0, seconds) * budget.cpu_per_second) + 1)


def _soft(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def exit_reason(returncode: int | None) -> str:
    """Why a worker process ended, for the submission's reason (instructor-facing)."""
    if returncode == -signal.SIGXCPU:
        return "the grading process used up its CPU time limit"
    if returncode == -signal.SIGKILL:
        return "the grading process was killed (SIGKILL: out of memory, or stopped from outside)"
    if returncode is not None and returncode < 0:
        return f"the grading process died (signal {-returncode})"
    return f"the grading process died (exit code {returncode})"
