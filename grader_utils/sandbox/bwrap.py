"""The bubblewrap sandbox for untrusted student code: its command line, user and cgroup.

:func:`bwrap_args` is the command prefix (used by the sandboxed kernels, :mod:`.kernel`, and by
one-shot runs, :mod:`.runner`). What the sandboxed process gets:
    * of the host's files, only an allow-list (:func:`bwrap_args`), read-only: the system's
      programs and libraries (``/usr`` and the merged-/usr links ``/bin``, ``/lib``, ...), the
      few files of ``/etc`` in ``ETC_FILES``, the Python installation (``sys.base_prefix``, maybe
      under ``/root/.pyenv``) with its own site-packages replaced by an empty folder, the
      virtualenv (``sys.prefix``) and the paths in ``expose``; plus its scratch folder
      (read-write) and a private ``/tmp`` of limited size. Nothing else of the disk exists
      inside: not the course directory, other courses, ``/root``, ``/home``, ``/opt``, ``/var``,
      other folders of ``/tmp``. Package folders of other Pythons (Debian's
      ``/usr/lib/python3/dist-packages``, ``/usr/local/lib/python3*/{site,dist}-packages``) are
      empty folders unless they are the virtualenv's; each path in ``hide`` is an empty folder
      too (what matters when the course sits inside an allowed folder, the virtualenv included),
      with the virtualenv and the ``expose`` paths that lie inside it bound back on top;
    * each package in ``mask_packages`` replaced by a stub whose import raises ImportError
      with a message saying why, however the import is spelled;
    * no network (its own empty network namespace), its own PID/IPC/UTS namespaces, a new
      session (no terminal), and death with the parent;
    * as root, a user id of its own (:func:`isolation.allocate_user`: concurrent sandboxes,
      of this course or another on the machine, never share one), so the process-count limit
      counts this sandbox's processes only, and a cgroup of its own
      (:class:`isolation.SandboxCgroup`): the memory of all its processes together, its tasks
      and its CPU weight are limited per sandbox; a run that reaches the memory limit is killed
      as a whole (``runner.SandboxResult.memory_exceeded``). Not root, or no writable cgroup
      hierarchy: the sandbox runs as the grader's user (``nobody`` as root without an id),
      the limits are per process only, and the result's ``notes`` and a log warning say so;
    * per-process limits on memory (address space), CPU seconds, file size and processes
      (:class:`Limits`; :mod:`.runner` adds the wall-clock limit and the cap on output).

bubblewrap is the Debian package ``bubblewrap``; ``make install`` installs it when it can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .isolation import SandboxCgroup, SandboxUser, allocate_user, warn_once

__all__ = [
    "Limits",
    "SandboxUnavailable",
    "available",
    "bwrap_args",
    "chown_for_sandbox",
    "foreign_site_dirs",
    "package_dirs",
    "sandbox_cgroup",
    "sandbox_identity",
    "write_stubs",
]

NOBODY = 65534


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or setpriv) is missing, or user namespaces are disabled."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    wall_seconds: float = 120.0
    cpu_seconds: int = 120
    memory_bytes: int = 4 * 1024**3  # address space: NumPy alone needs little; TensorFlow reserves a lot
    processes: int = 64
    file_bytes: int = 256 * 1024**2
    output_bytes: int = 256 * 1024


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


def chown_for_sandbox(scratch: Path, user: SandboxUser | None = None) -> None:
    """Give ``scratch`` and everything in it to the sandbox's user (``user``, else ``nobody``; when we are root)."""
    if os.geteuid() != 0:
        return
    uid, gid = (user.uid, user.gid) if user is not None else (NOBODY, NOBODY)
    os.chown(scratch, uid, gid)
    for path in Path(scratch).rglob("*"):
        os.chown(path, uid, gid, follow_symlinks=False)


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
            f"                  'TensorFlow, SciPy and similar libraries cannot be imported.')\n"
        )
        for folder in package_dirs([name]):
            args += ["--ro-bind", str(stub), folder]
    return stubs, args


#: the parts of /etc the interpreter and its libraries read (fontconfig: /etc/fonts) (found by trying:
#: TensorFlow, matplotlib and an IPython kernel run with these); /etc/passwd and /etc/group are not
#: among them (the sandbox's user has no name: ``USER``/``LOGNAME`` are set instead)
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/host.conf",
    "/etc/mime.types",
    "/etc/fonts",
)
#: top-level system folders bound read-only (or re-created as the same symlinks on merged-/usr systems)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: size of the private /tmp when no limits are given (its pages count as the sandbox's memory)
TMP_BYTES = 256 * 1024**2


def foreign_site_dirs() -> list[Path]:
    """Package folders of Python installations other than the virtualenv running us: the base
    installation's site-packages (``sys.base_prefix``), Debian's /usr/lib/python3/dist-packages and
    /usr/local/lib/python3*/{site,dist}-packages. The sandbox sees them as empty folders."""
    import glob
    import sysconfig

    own = {Path(p).resolve() for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}
    prefix = Path(sys.prefix).resolve()
    base = sys.base_prefix
    found: set[Path] = set()
    scheme = sysconfig.get_paths(
        vars={"base": base, "platbase": base, "installed_base": base, "installed_platbase": base}
    )
    candidates = [scheme["purelib"], scheme["platlib"], "/usr/lib/python3/dist-packages"]
    for root in (base, "/usr", "/usr/local"):
        candidates += glob.glob(f"{root}/lib/python3*/site-packages") + glob.glob(f"{root}/lib/python3*/dist-packages")
    for candidate in candidates:
        path = Path(candidate)
        if not path.is_dir():
            continue
        path = path.resolve()
        if path in own or path == prefix or prefix in path.parents or any(path in o.parents for o in own):
            continue  # the virtualenv's own packages (or, without a virtualenv, the installation's)
        found.add(path)
    return sorted(found)


def bwrap_args(
    scratch: Path,
    *,
    hide: Sequence[Path] = (),
    expose: Sequence[Path] = (),
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
    limits: Limits | None = None,
    user: SandboxUser | None = None,
    tmp_bytes: int | None = None,
) -> list[str]:
    """The command prefix that runs a program in the sandbox described in this module's docstring,
    with ``scratch`` as its writable working folder (``extra``: more bwrap arguments, e.g. masks).
    With ``limits``, the rlimits are set inside the sandbox by ``prlimit`` (for launchers that cannot
    pass a ``preexec_fn``, such as Jupyter's kernel provisioner). ``user``: the sandbox's own user id
    (:func:`isolation.allocate_user`); without it a root grader runs the program as ``nobody``."""
    if not shutil.which("bwrap") or not shutil.which("setpriv"):
        raise SandboxUnavailable(
            "bubblewrap is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), or run `make install` as root"
        )
    scratch = Path(scratch).resolve()
    if tmp_bytes is None:
        tmp_bytes = limits.file_bytes if limits is not None else TMP_BYTES
    args = [
        "bwrap",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    # the allow-list: the system's programs and libraries, a few files of /etc, nothing else of the host
    for top in SYSTEM_DIRS:
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    args += ["--dev", "/dev", "--proc", "/proc", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/tmp")}
    bound: list[Path] = [Path(top) for top in SYSTEM_DIRS]

    def parents(path: Path) -> None:
        # folders bwrap would create on the way (e.g. /etc, inside /root or /tmp) must be traversable by the
        # sandbox's user; folders inside a bound one exist already
        for parent in reversed(path.parents):
            if (
                parent != Path("/")
                and parent not in made
                and not any(parent == b or b in parent.parents for b in bound)
            ):
                args.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)

    for name in ETC_FILES:
        if os.path.exists(name):
            parents(Path(name))
            args += ["--ro-bind", os.path.realpath(name), name]

    def bind(path: Path) -> None:
        literal = Path(os.path.abspath(path))
        path = literal.resolve()
        if not path.exists():
            return
        if path in bound:
            return
        parents(path)
        args.extend(["--ro-bind", str(path), str(path)])
        bound.append(path)
        if literal != path and not any(literal == Path(t) or Path(t) in literal.parents for t in SYSTEM_DIRS):
            parents(literal)  # reached through a symlink: the same symlink inside
            args.extend(["--symlink", str(path), str(literal)])

    # the Python installation (a venv's python links into it, possibly under /root) without its packages
    bind(Path(sys.base_prefix))
    for folder in foreign_site_dirs():
        parents(folder)
        args += ["--size", str(1024**2), "--tmpfs", str(folder)]
    # the virtualenv running us (it may sit in a hidden folder or under /tmp) and the exposed paths; then the
    # hidden paths over them (a course inside the virtualenv is hidden), then again whatever of the former lies
    # inside a hidden folder (a virtualenv or package inside the course stays visible)
    keep = [Path(sys.prefix), *(Path(p) for p in expose)]
    for path in keep:
        bind(path)
    hidden: list[Path] = []
    for path in hide:  # only matters inside an allowed folder; elsewhere it is an empty folder anyway
        path = Path(path).resolve()
        if path.is_dir():
            parents(path)
            args += ["--size", str(1024**2), "--tmpfs", str(path)]
            made.add(path)
            bound.append(path)
            hidden.append(path)
        elif path.exists():
            parents(path)
            args += ["--ro-bind", "/dev/null", str(path)]
    for path in keep:
        real = Path(os.path.abspath(path)).resolve()
        if real.exists() and any(h in real.parents for h in hidden):
            args += ["--ro-bind", str(real), str(real)]
    args += list(extra)
    parents(scratch)  # e.g. a worker's own temporary folder under /tmp
    args += ["--bind", str(scratch), str(scratch), "--remount-ro", "/", "--chdir", str(scratch), "--clearenv"]
    base_env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(scratch),
        "USER": "student",
        "LOGNAME": "student",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            base_env[key] = os.environ[key]
    for key, value in {**base_env, **(env or {})}.items():
        args += ["--setenv", key, value]
    args.append("--")
    if os.geteuid() == 0:
        # bwrap mounts as root (it can read the Python under /root); the command then runs as the sandbox's
        # own user, so that the process limit applies to this sandbox alone (the kernel exempts root from it).
        uid, gid = (user.uid, user.gid) if user is not None else (NOBODY, NOBODY)
        args += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
    if limits is not None:
        args += [
            "prlimit",
            f"--as={limits.memory_bytes}",
            f"--data={limits.memory_bytes}",  # its own, not the grading worker's (instructor/budget.py)
            f"--cpu={limits.cpu_seconds}",
            f"--fsize={limits.file_bytes}",
            f"--nproc={limits.processes}",
            "--core=0",
            "--",
        ]
    return args


def sandbox_identity() -> tuple[SandboxUser | None, list[str]]:
    """A user id of its own for a new sandbox, and notes saying what is shared when there is none."""
    user = allocate_user()
    if user is None:
        note = (
            "isolation: not root, so every sandbox runs as the grader's own user; the process limit is "
            "shared by all sandboxes of this user"
        )
        warn_once("sandbox: " + note)
        return None, [note]
    return user, []


def sandbox_cgroup(limits: Limits) -> tuple[SandboxCgroup | None, list[str]]:
    """The cgroup of a new sandbox (memory of all its processes together, tasks, CPU weight), and notes
    saying what is per process only when there is none (not root, no writable hierarchy)."""
    group = SandboxCgroup.create("cnn-sandbox", limits.memory_bytes, limits.processes + SANDBOX_TASKS)
    if group is None:
        return None, [
            "isolation: no cgroup for this sandbox (not root, or no writable memory/pids hierarchy); "
            "memory is limited per process only"
        ]
    return group, []


#: tasks of the sandbox's own machinery (the two bwrap processes) on top of ``Limits.processes``
SANDBOX_TASKS = 4
