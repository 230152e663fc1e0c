"""Per-sandbox isolation: a user id of its own and a cgroup of its own for every concurrent sandbox.

Why: with every sandbox running as the same user ``nobody``, the per-user process limit
(RLIMIT_NPROC) was shared, so one submission holding many threads made every other student's
sandbox fail to start (``crash (exit 126)``); and rlimits on memory are per process, so four
children could hold 6 GiB under a "4 GiB" limit. Two mechanisms, both only when the grader
runs as root:

**A user id per sandbox** (:func:`allocate_user`). Ids come from the fixed range
``UID_BASE .. UID_BASE + UID_COUNT - 1`` (2_100_000 .. 2_100_999: above the ids Debian gives to
users (< 60_000) and ``nobody`` (65_534), below the ranges container runtimes usually map
(subuid ranges start at 100_000 in steps of 65_536, so pick ``UID_BASE`` again if your machine
maps around 2.1 M)). The same id is used as group id. One id is held by ``flock``-ing the file
``<LOCK_DIR>/<uid>.lock``; every course on the machine that uses this module shares the folder
(``/run/lock/cnn-sandbox-uids``, else ``/dev/shm/cnn-sandbox-uids``), so two graders never hand
out the same id at the same time. An id is skipped when a process still runs under it or
``/etc/passwd`` names it. The lock goes when the holder releases it or dies (the kernel drops
``flock`` locks of a dead process), so a crashed grader leaks no ids. RLIMIT_NPROC then counts
the processes of one sandbox only.

**A cgroup per sandbox** (:class:`SandboxCgroup`): a memory limit on the total of all its
processes (and their tmpfs pages), a limit on its tasks (``pids.max``) and an equal CPU weight
per sandbox (so a submission with 100 busy threads gets the CPU share of one sandbox, not of
100 threads). cgroup v2 is used when its unified hierarchy offers the ``memory`` and ``pids``
controllers; otherwise cgroup v1's ``memory`` + ``pids`` (+ ``cpu``) hierarchies. The group is
made under the grading process's own cgroup (so whatever limits the grader itself has still
cover its sandboxes); in v2, when that cgroup cannot delegate controllers (it holds
processes), under ``<root>/cnn-sandbox``. The sandboxed process joins the group before it
execs bubblewrap (``preexec_fn`` in :func:`runner.run_sandboxed`; the small :mod:`cgexec`
wrapper in front of ``bwrap`` for Jupyter's kernel, which is started from a command list).
When the memory limit is hit, the kernel's OOM killer kills inside that group only; the
caller sees it through :meth:`SandboxCgroup.oom_kills` and reports the run as killed. When the
sandbox ends, every process left in the group is killed and the group removed.

Not root, or no writable cgroup hierarchy: :func:`allocate_user` / :meth:`SandboxCgroup.create`
return ``None``, the sandbox falls back to the shared user (``nobody`` as root, else the
grader's own user) and per-process limits, and a warning is logged once (and a note added to
the sandbox's result).
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import logging
import os
import pwd
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["UID_BASE", "UID_COUNT", "SandboxUser", "SandboxCgroup", "allocate_user", "lock_dir", "warn_once"]

log = logging.getLogger(__name__)

UID_BASE = 2_100_000
UID_COUNT = 1000
_LOCK_DIRS = (Path("/run/lock/cnn-sandbox-uids"), Path("/dev/shm/cnn-sandbox-uids"))
_warned: set[str] = set()
_serial = itertools.count()


def warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time only (fallbacks would repeat for every sandbox)."""
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


def lock_dir() -> Path:
    """The machine-wide folder of the id locks (made on first use, root only)."""
    for folder in _LOCK_DIRS:
        if folder.parent.is_dir():
            folder.mkdir(mode=0o755, exist_ok=True)
            return folder
    raise OSError("neither /run/lock nor /dev/shm exists")


@dataclass
class SandboxUser:
    """An unprivileged user id (and the same group id) held for one sandbox until :meth:`release`."""

    uid: int
    gid: int
    _fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> SandboxUser:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten holder does not keep the id for the life of the process
        try:
            self.release()
        except Exception:
            pass


def _uid_busy(uid: int) -> bool:
    """A process runs as ``uid`` (left over from a crashed sandbox), or a real account has it."""
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    try:
        entries = os.scandir("/proc")
    except OSError:
        return False
    with entries:
        for entry in entries:
            if entry.name.isdigit():
                try:
                    if entry.stat(follow_symlinks=False).st_uid == uid:
                        return True
                except OSError:
                    continue
    return False


def allocate_user() -> SandboxUser | None:
    """A free id of the range, locked for the caller; ``None`` when not root (no ids to switch to).
    Raises RuntimeError when all ``UID_COUNT`` ids are in use."""
    if os.geteuid() != 0:
        return None
    folder = lock_dir()
    start = random.randrange(UID_COUNT)
    for i in range(UID_COUNT):
        uid = UID_BASE + (start + i) % UID_COUNT
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if _uid_busy(uid):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it (informative only: the lock is the flock)
        return SandboxUser(uid, uid, fd)
    raise RuntimeError(f"all {UID_COUNT} sandbox user ids ({UID_BASE}..{UID_BASE + UID_COUNT - 1}) are in use")


# --------------------------------------------------------------------------------------------- cgroups


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of the cgroup file systems."""
    out: list[tuple[str, str, set[str]]] = []
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            out.append((parts[1].replace("\\040", " "), parts[2], set(parts[3].split(","))))
    return out


def _own_paths() -> dict[str, str]:
    """{controller (or '' for v2): this process's cgroup path} from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _sweep(parent: Path, prefix: str) -> None:
    """Remove the groups ``<prefix>-<pid>-<n>`` that a grading process which has died left behind
    (killed for time, say): their processes are killed first."""
    for folder in parent.glob(f"{prefix}-*-*"):
        try:
            pid = int(folder.name[len(prefix) + 1 :].split("-")[0])
        except ValueError:
            continue
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        stale = SandboxCgroup(0, {"": folder})
        stale.remove()


class SandboxCgroup:
    """One sandbox's cgroup (one folder per v1 hierarchy, or one v2 folder)."""

    def __init__(self, version: int, dirs: dict[str, Path]):
        self.version = version
        self.dirs = dirs  # v1: {"memory": ..., "pids": ..., "cpu": ...}; v2: {"": ...}

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    @classmethod
    def create(cls, name: str, memory_bytes: int, tasks: int) -> SandboxCgroup | None:
        """A new group with these limits, or ``None`` (not root, no writable hierarchy: logged once)."""
        if os.geteuid() != 0:
            return None
        prefix = name
        name = f"{prefix}-{os.getpid()}-{next(_serial)}"
        mounts, own = _mounts(), _own_paths()
        try:
            v2 = next((m for m, t, _ in mounts if t == "cgroup2"), None)
            if v2 and {"memory", "pids"} <= set(Path(v2, "cgroup.controllers").read_text().split()):
                group = cls._create_v2(Path(v2), own.get("", "/"), name, memory_bytes, tasks)
                _sweep(group.dirs[""].parent, prefix)
                return group
            v1 = {}
            for controller in ("memory", "pids", "cpu"):
                point = next((m for m, t, opts in mounts if t == "cgroup" and controller in opts), None)
                if point is not None:
                    v1[controller] = Path(point) / own.get(controller, "/").lstrip("/")
            if "memory" in v1 and "pids" in v1:
                group = cls._create_v1(v1, name, memory_bytes, tasks)
                for folder in group.dirs.values():
                    _sweep(folder.parent, prefix)
                return group
            warn_once(
                "sandbox: no cgroup hierarchy with the memory and pids controllers; memory and process "
                "limits are per process (rlimits) only"
            )
        except OSError as exc:
            warn_once(
                f"sandbox: cannot make a cgroup per sandbox ({exc}); memory and process limits are per "
                "process (rlimits) only"
            )
        return None

    @classmethod
    def _create_v1(cls, parents: dict[str, Path], name: str, memory_bytes: int, tasks: int) -> SandboxCgroup:
        group = cls(1, {})
        try:
            for controller, parent in parents.items():
                try:
                    (parent / name).mkdir()
                except OSError:
                    if controller == "cpu":
                        continue  # optional
                    raise
                group.dirs[controller] = parent / name
            memory = group.dirs["memory"]
            _write(memory / "memory.limit_in_bytes", str(memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                try:
                    _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))  # no escape into swap
                except OSError:
                    pass
            try:
                _write(memory / "memory.swappiness", "0")
            except OSError:
                pass
            _write(group.dirs["pids"] / "pids.max", str(tasks))
            if "cpu" in group.dirs:
                _write(group.dirs["cpu"] / "cpu.shares", str(1024 * (os.cpu_count() or 1)))
        except OSError:
            group.remove()
            raise
        return group

    @classmethod
    def _create_v2(cls, root: Path, own: str, name: str, memory_bytes: int, tasks: int) -> SandboxCgroup:
        wanted = {"memory", "pids"} | ({"cpu"} if "cpu" in (root / "cgroup.controllers").read_text().split() else set())

        def delegate(folder: Path) -> None:
            enabled = set((folder / "cgroup.subtree_control").read_text().split())
            if not wanted <= enabled:
                _write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(wanted - enabled)))

        parent = root / own.lstrip("/")
        try:
            delegate(parent)
        except OSError:  # our own cgroup holds processes (no internal processes rule): a folder under the root
            delegate(root)
            parent = root / "cnn-sandbox"
            parent.mkdir(exist_ok=True)
            delegate(parent)
        folder = parent / name
        folder.mkdir()
        group = cls(2, {"": folder})
        try:
            _write(folder / "memory.max", str(memory_bytes))
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
            if (folder / "memory.oom.group").exists():
                _write(folder / "memory.oom.group", "1")  # an OOM kills the whole sandbox, not one process
            _write(folder / "pids.max", str(tasks))
            if (folder / "cpu.weight").exists():
                _write(folder / "cpu.weight", str(100 * (os.cpu_count() or 1)))
        except OSError:
            group.remove()
            raise
        return group

    def join(self, pid: int = 0) -> None:
        """Move ``pid`` (0: the calling process) into the group; safe to call between fork and exec."""
        value = str(pid or os.getpid())
        for path in self.procs_files:
            with open(path, "w") as f:
                f.write(value)

    def oom_kills(self) -> int:
        """How many processes the OOM killer killed in the group (its memory limit was reached)."""
        try:
            if self.version == 2:
                text = (self.dirs[""] / "memory.events").read_text()
                key = "oom_kill"
            else:
                text = (self.dirs["memory"] / "memory.oom_control").read_text()
                key = "oom_kill" if "oom_kill " in text else "under_oom"
        except OSError:
            return 0
        for line in text.splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
        return 0

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files:
            try:
                found |= {int(p) for p in Path(path).read_text().split()}
            except OSError:
                pass
        return found

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the group until it is empty (or ``timeout``)."""
        if self.version == 2 and (self.dirs[""] / "cgroup.kill").exists():
            try:
                _write(self.dirs[""] / "cgroup.kill", "1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and remove the group's folders."""
        self.kill_all()
        for folder in list(self.dirs.values()):
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    time.sleep(0.02)
        self.dirs = {}
