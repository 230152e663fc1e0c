"""Run one program in the sandbox of :mod:`.bwrap` and collect what happened (:class:`SandboxResult`).

On top of the sandbox itself, a run gets:
    * as root, a user id of its own and a cgroup of its own (:func:`.bwrap.sandbox_identity`,
      :func:`.bwrap.sandbox_cgroup`): a run that reaches the memory limit with all its processes
      together is killed as a whole (``SandboxResult.memory_exceeded``);
    * per-process limits on memory (address space), CPU seconds, file size and processes, set
      between fork and exec, and a wall-clock limit (:class:`.bwrap.Limits`);
    * stdout/stderr kept up to ``output_bytes`` each; the rest is counted and dropped.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .bwrap import Limits, bwrap_args, chown_for_sandbox, sandbox_cgroup, sandbox_identity, write_stubs
from .isolation import SandboxCgroup

__all__ = ["SandboxResult", "run_sandboxed"]


@dataclass
class SandboxResult:
    """What happened: exit code (None when killed for time), output kept, how long it took."""

    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    dropped_bytes: int
    seconds: float
    signal: str | None = None
    notes: list[str] = field(default_factory=list)
    #: killed because all its processes together reached the memory limit (its cgroup's OOM killer struck)
    memory_exceeded: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.memory_exceeded


def _limit(limits: Limits) -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _drain(stream, keep: int, sink: list[bytes], dropped: list[int]) -> None:
    kept = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return
        if kept < keep:
            sink.append(chunk[: keep - kept])
            dropped[0] += max(0, len(chunk) - (keep - kept))
            kept += len(chunk)
        else:
            dropped[0] += len(chunk)


def run_sandboxed(
    argv: Sequence[str],
    scratch: Path,
    *,
    hide: Sequence[Path] = (),
    expose: Sequence[Path] = (),
    mask_packages: Sequence[str] = (),
    limits: Limits = Limits(),  # noqa: B008  (a frozen dataclass: one shared default is safe)
    env: dict[str, str] | None = None,
) -> SandboxResult:
    """Run ``argv`` in the sandbox with ``scratch`` as its writable working folder.

    As root, the run gets a user id of its own (:func:`isolation.allocate_user`) and a cgroup of its
    own (:class:`isolation.SandboxCgroup`): ``limits.memory_bytes`` then also bounds the memory of all
    its processes together; a run that reaches it is killed as a whole (``memory_exceeded``)."""
    scratch = Path(scratch).resolve()
    user, notes = sandbox_identity()
    group: SandboxCgroup | None = None
    stubs: Path | None = None
    try:
        chown_for_sandbox(scratch, user)
        stubs, mask_args = write_stubs(mask_packages)
        args = bwrap_args(
            scratch, hide=hide, expose=expose, extra=mask_args, env=env, user=user, tmp_bytes=limits.file_bytes
        ) + list(argv)
        group, more = sandbox_cgroup(limits)
        notes += more
        return _run(args, limits, group, notes)
    finally:
        if group is not None:
            group.remove()
        if stubs is not None:
            shutil.rmtree(stubs, ignore_errors=True)
        if user is not None:
            user.release()


def _run(args: list[str], limits: Limits, group: SandboxCgroup | None, notes: list[str]) -> SandboxResult:
    def preexec() -> None:  # in the child, before bwrap runs: join the cgroup, then the rlimits
        if group is not None:
            group.join()
        _limit(limits)

    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
        start_new_session=True,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    dropped = [0]
    threads = [
        threading.Thread(target=_drain, args=(proc.stdout, limits.output_bytes, out, dropped)),
        threading.Thread(target=_drain, args=(proc.stderr, limits.output_bytes, err, dropped)),
    ]
    for t in threads:
        t.start()
    timed_out = memory_exceeded = False
    deadline = start + limits.wall_seconds
    while True:
        try:
            # with a cgroup, look at its OOM count a few times a second: one OOM ends the whole run
            proc.wait(timeout=max(0.0, min(deadline - time.monotonic(), 0.25 if group else 1e9)))
            break
        except subprocess.TimeoutExpired:
            if group is not None and group.oom_kills():
                memory_exceeded = True
            elif time.monotonic() >= deadline:
                timed_out = True
            else:
                continue
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if group is not None:
                group.kill_all()
            proc.wait()
            break
    if group is not None:
        if not memory_exceeded and group.oom_kills():
            memory_exceeded = True
        group.kill_all()  # anything the run left behind (the pid namespace normally took it down already)
    for t in threads:
        t.join(timeout=10)
    code = proc.returncode
    sig = signal.Signals(-code).name if code is not None and code < 0 else None
    if memory_exceeded:
        notes.append(
            f"killed: the sandbox's processes together used more than {limits.memory_bytes / 1024**3:.1f} GiB of memory"
        )
    return SandboxResult(
        None if timed_out else code,
        timed_out,
        b"".join(out).decode("utf-8", "replace"),
        b"".join(err).decode("utf-8", "replace"),
        dropped[0],
        time.monotonic() - start,
        sig,
        notes,
        memory_exceeded,
    )
