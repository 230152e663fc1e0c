"""Run untrusted student code in a bubblewrap sandbox with resource limits.

What the sandboxed process gets:
    * the whole file system read-only, except a scratch folder of its own (read-write);
    * empty, private ``/tmp``, ``/root`` and ``/home``; each path in ``hide`` replaced by an
      empty folder (the course directory: sources, gradebook, other students' work), with
      only the paths in ``expose`` (the virtualenv, ``grader_utils``) bound back read-only;
    * each package in ``mask_packages`` replaced by a stub whose import raises ImportError
      with a message saying why, however the import is spelled;
    * no network (its own empty network namespace), its own PID/IPC/UTS namespaces, a new
      session (no terminal), and death with the parent;
    * an unprivileged user (``nobody``) so that the process-count limit applies, and limits
      on memory (address space), CPU seconds, file size and wall-clock time;
    * stdout/stderr kept up to ``output_bytes`` each; the rest is counted and dropped.

bubblewrap is the Debian package ``bubblewrap``; ``make install`` installs it when it can.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["Limits", "SandboxResult", "SandboxUnavailable", "available", "bwrap_args", "chown_for_sandbox",
           "package_dirs", "run_sandboxed", "write_stubs"]

NOBODY = 65534


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or setpriv) is missing, or user namespaces are disabled."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    wall_seconds: float = 120.0
    cpu_seconds: int = 120
    memory_bytes: int = 4 * 1024 ** 3  # address space: NumPy alone needs little; TensorFlow reserves a lot
    processes: int = 64
    file_bytes: int = 256 * 1024 ** 2
    output_bytes: int = 256 * 1024


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

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def available() -> bool:
    """True when bubblewrap runs here (user namespaces enabled)."""
    if not shutil.which("bwrap"):
        return False
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-net", "true"], capture_output=True)
    return probe.returncode == 0


def package_dirs(names: Sequence[str]) -> list[str]:
    """Folders of the installed packages ``names`` (found without importing them)."""
    import importlib.util

    dirs = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        # only the package's own folder (an imported package may list extra folders, e.g. tensorflow/_api/v2)
        own = [os.path.realpath(p) for p in spec.submodule_search_locations if os.path.basename(p) == name]
        dirs += own or [os.path.realpath(p) for p in spec.submodule_search_locations][:1]
    return sorted(set(dirs))


def _limit(limits: Limits) -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
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


def chown_for_sandbox(scratch: Path) -> None:
    """Give ``scratch`` and everything in it to the sandbox's user (when we are root)."""
    if os.geteuid() != 0:
        return
    os.chown(scratch, NOBODY, NOBODY)
    for path in Path(scratch).rglob("*"):
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def write_stubs(mask_packages: Sequence[str]) -> tuple[Path, list[str]]:
    """A folder of stub packages whose import raises ImportError, and the bwrap arguments binding
    each over the real package's folder. The caller removes the folder when the sandbox is done."""
    stubs = Path(tempfile.mkdtemp(prefix="sandbox-stubs-"))
    os.chmod(stubs, 0o755)
    args: list[str] = []
    for name in mask_packages:
        stub = stubs / name
        stub.mkdir()
        (stub / "__init__.py").write_text(
            f"raise ImportError({name!r} ' is not available here: while NumPy-only exercises are graded, '\n"
            f"                  'TensorFlow, SciPy and similar libraries cannot be imported.')\n")
        for folder in package_dirs([name]):
            args += ["--ro-bind", str(stub), folder]
    return stubs, args


def bwrap_args(scratch: Path, *, hide: Sequence[Path] = (), expose: Sequence[Path] = (),
               extra: Sequence[str] = (), env: dict[str, str] | None = None,
               limits: Limits | None = None) -> list[str]:
    """The command prefix that runs a program in the sandbox described in this module's docstring,
    with ``scratch`` as its writable working folder (``extra``: more bwrap arguments, e.g. masks).
    With ``limits``, the rlimits are set inside the sandbox by ``prlimit`` (for launchers that cannot
    pass a ``preexec_fn``, such as Jupyter's kernel provisioner)."""
    if not shutil.which("bwrap") or not shutil.which("setpriv"):
        raise SandboxUnavailable("bubblewrap is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), "
                                 "or run `make install` as root")
    scratch = Path(scratch).resolve()
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--tmpfs", "/root", "--tmpfs", "/home", "--tmpfs", "/run",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    for path in hide:
        path = Path(path).resolve()
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    # the Python installation and the virtualenv running us (a venv's python links into the former,
    # possibly under /root; the latter may sit in a hidden folder or under /tmp)
    made: set[Path] = set()
    for path in [Path(sys.base_prefix), Path(sys.prefix), *expose]:
        path = Path(path).resolve()
        if path.exists():
            # folders bwrap would create on the way (inside a hidden folder or /tmp) must be traversable by nobody
            for parent in reversed(path.parents):
                if parent != Path("/") and parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += ["--ro-bind", str(path), str(path)]
    args += list(extra)
    for parent in reversed(scratch.parents):  # e.g. a worker's own temporary folder under /tmp
        if parent != Path("/") and parent not in made:
            args += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    args += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--clearenv"]
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(scratch),
                "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
                "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            base_env[key] = os.environ[key]
    for key, value in {**base_env, **(env or {})}.items():
        args += ["--setenv", key, value]
    args.append("--")
    if os.geteuid() == 0:
        # bwrap mounts as root (it can read the Python under /root); the command then runs as nobody,
        # so that the process limit applies (the kernel exempts root from it).
        args += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all"]
    if limits is not None:
        args += ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}",
                 f"--fsize={limits.file_bytes}", f"--nproc={limits.processes}", "--core=0", "--"]
    return args


#: a driver talks to the sandboxed program while it runs: ``driver(proc, done_fd, deadline)`` writes
#: lines to ``proc.stdin`` and reads the program's answers from ``done_fd`` (the read end of a pipe
#: whose write end the program finds in ``$GRADER_DONE_FD``), until ``deadline`` (time.monotonic()).
Driver = Callable[[subprocess.Popen, int, float], None]


def run_sandboxed(argv: Sequence[str], scratch: Path, *, hide: Sequence[Path] = (), expose: Sequence[Path] = (),
                  mask_packages: Sequence[str] = (), limits: Limits = Limits(),
                  env: dict[str, str] | None = None, driver: Driver | None = None) -> SandboxResult:
    """Run ``argv`` in the sandbox with ``scratch`` as its writable working folder (with ``driver``:
    talking to it while it runs, see :data:`Driver`)."""
    scratch = Path(scratch).resolve()
    chown_for_sandbox(scratch)
    stubs, mask_args = write_stubs(mask_packages)
    done_r = done_w = -1
    if driver is not None:
        done_r, done_w = os.pipe()
        env = {**(env or {}), "GRADER_DONE_FD": str(done_w)}
    try:
        args = bwrap_args(scratch, hide=hide, expose=expose, extra=mask_args, env=env) + list(argv)
    except SandboxUnavailable:
        shutil.rmtree(stubs, ignore_errors=True)
        for fd in (done_r, done_w):
            if fd >= 0:
                os.close(fd)
        raise

    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE if driver else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            pass_fds=(done_w,) if driver else (),
                            preexec_fn=lambda: _limit(limits), start_new_session=True)
    if driver is not None:
        os.close(done_w)
    out: list[bytes] = []
    err: list[bytes] = []
    dropped = [0]
    threads = [threading.Thread(target=_drain, args=(proc.stdout, limits.output_bytes, out, dropped)),
               threading.Thread(target=_drain, args=(proc.stderr, limits.output_bytes, err, dropped))]
    for t in threads:
        t.start()
    timed_out = False
    if driver is not None:
        try:
            driver(proc, done_r, start + limits.wall_seconds)
        finally:
            os.close(done_r)
            try:
                assert proc.stdin is not None
                proc.stdin.close()
            except OSError:
                pass
    try:
        proc.wait(timeout=max(0.0, start + limits.wall_seconds - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    for t in threads:
        t.join(timeout=10)
    shutil.rmtree(stubs, ignore_errors=True)
    code = proc.returncode
    sig = signal.Signals(-code).name if code is not None and code < 0 else None
    return SandboxResult(None if timed_out else code, timed_out, b"".join(out).decode("utf-8", "replace"),
                         b"".join(err).decode("utf-8", "replace"), dropped[0], time.monotonic() - start, sig)


def scratch_dir(prefix: str = "sandbox-") -> Path:
    """A fresh scratch folder outside the course directory."""
    return Path(tempfile.mkdtemp(prefix=prefix))
