"""NumPy-only by allow-list: after :func:`lock`, no new native code can run in this process.

Used only inside the grading sandbox (``harness.py`` calls :func:`lock` before the student's
cells run when ``GRADER_NUMPY_ONLY=1``), never in the grading process or in a student's kernel.

The threat. In the NumPy-only exercises (correlate2d, conv2d, conv2d_fast, max_pool2d,
average_pool2d) the point is to write the computation with NumPy. Hiding a list of packages
(the sandbox's stub packages over TensorFlow, SciPy...) is a deny-list, and it leaks: Pillow
(``ImageFilter.MaxFilter`` computes every max-pooling window; matplotlib needs it, so it is not
hidden), a compiled extension shipped inside the notebook (base64 text written to the scratch
folder at run time and loaded with ``ctypes`` or ``importlib``), a package of the system Python
outside the virtualenv (``sys.path.append(...)``), or another program started with
``subprocess``. Each of these does the work in native code that is neither NumPy nor Python.

The mechanism: an allow-list enforced by the kernel.

1. The allowed native code is loaded first: NumPy with all its extension modules, and every
   extension module of the standard library (``lib-dynload``: ``math``, ``_json``, ``zlib``...).
2. A seccomp-BPF filter (:mod:`.seccomp`: installed with ``ctypes``, no libseccomp needed) then makes the kernel
   refuse, with ``EPERM``, every ``mmap``/``mprotect``/``pkey_mprotect`` that asks for executable
   memory, ``execve``/``execveat`` (no other program can start), ``shmat`` with ``SHM_EXEC``,
   ``personality`` (``READ_IMPLIES_EXEC`` would make any readable mapping executable),
   ``ptrace`` and ``process_vm_writev`` (writing code into a forked child), ``bpf``, and
   ``prctl(PR_SET_DUMPABLE)``. The process is made non-dumpable first, so that its
   ``/proc/self/mem`` (which can write into read-only code pages) belongs to root and cannot
   be opened by the sandbox's unprivileged user; :func:`lock` checks that it cannot. The
   filter also refuses other ABIs (x32, i386) and is inherited by every thread (TSYNC) and
   child process; it cannot be removed. Before installing it, :func:`lock` checks that no
   mapping is both writable and executable (else a student could write code there).

   From then on, whatever the student's Python does (``ctypes.CDLL`` of a fresh ``.so``,
   ``importlib`` of an extension from any folder, ``subprocess`` of any binary, Pillow when it
   was not loaded before), no new machine code can be mapped or executed. This is the wall:
   nothing the student's process reports is trusted, the engine judges only returned data,
   and a lock that cannot be installed makes the harness exit before any student code runs
   (the engine records a crash: 0 points).
3. Courtesy, not security: an import hook refuses extension modules that were not loaded
   before the lock with a message naming the module and its file, and an audit hook does the
   same for ``ctypes`` loading a library and for starting programs. A student can remove
   either; the wall above still holds, only the message gets terser.

matplotlib is compiled code too (and loads Pillow), so :func:`lock` installs a no-op stand-in
for ``matplotlib`` and all its submodules (:mod:`.plot_standin`): drawing calls still work while
grading, but no figure is drawn.

Residual risk: code already loaded (libc, libpython, NumPy and its BLAS, the standard library's
modules and their libraries) stays callable, e.g. through ``ctypes``; none of it computes a
convolution or pooling beyond what NumPy itself offers.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import importlib.machinery
import os
import platform
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..i18n import N_
from .plot_standin import MatplotlibStandIn
from .seccomp import ARCH, AUDIT_ARCH, NR, RET_ALLOW, RET_EPERM, RET_KILL, SYSCALLS, X32_BIT, arg, assemble, install

__all__ = ["LockError", "MESSAGE", "allowed_native_modules", "lock", "locked", "refusal_in"]

#: what every refusal says after naming what it refused
MESSAGE = N_("NumPy-only exercises may use NumPy and Python's standard library only")

#: extension modules of the standard library that are tests or demos, not part of the library
_STDLIB_SKIP = (
    "_test",
    "_ctypes_test",
    "_xxtestfuzz",
    "_xxsubinterpreters",
    "xxlimited",
    "xxsubtype",
    "_tkinter",
    "readline",
)


class LockError(RuntimeError):
    """The lock could not be installed (unknown architecture, no seccomp...): grading must stop."""


_LOCKED = False


def locked() -> bool:
    """True once :func:`lock` has installed the filter in this process."""
    return _LOCKED


# --- 1. the allowed native code, loaded before the lock ------------------------------------------------------


def _extension_names(folder: Path, package: str | None) -> Iterator[str]:
    """Dotted names of the extension modules in ``folder`` (recursively when ``package``)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for path in sorted(folder.rglob("*") if package else folder.iterdir()):
        if not path.name.endswith(suffixes) or "tests" in path.relative_to(folder).parts:
            continue
        stem = path.name
        for suffix in sorted(suffixes, key=len, reverse=True):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        parts = list(path.relative_to(folder).parent.parts) + [stem]
        yield ".".join(([package] if package else []) + parts)


def allowed_native_modules() -> list[str]:
    """The extension modules loaded before the lock: NumPy's, then the standard library's."""
    import numpy

    names = [
        "numpy.linalg",
        "numpy.fft",
        "numpy.random",
        "numpy.lib.stride_tricks",
        "numpy.polynomial",
        "numpy.ma",
        "numpy.testing",
    ]
    names += list(_extension_names(Path(numpy.__file__).resolve().parent, "numpy"))
    for entry in dict.fromkeys(p for p in sys.path if os.path.basename(p.rstrip(os.sep)) == "lib-dynload"):
        if os.path.isdir(entry):
            names += [n for n in _extension_names(Path(entry), None) if not n.startswith(_STDLIB_SKIP)]
    return names


def _preload() -> None:
    for name in allowed_native_modules():
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (an optional module whose library is missing: it stays out)
            pass


# --- 2. the wall: seccomp-BPF (the policy; the mechanics are in seccomp.py) ----------------------------------

PROT_EXEC, SHM_EXEC, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 0x4, 0o100000, 4, 38


def _machine() -> str:
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if machine not in SYSCALLS or sys.maxsize <= 2**32:
        raise LockError(
            f"the NumPy-only lock knows x86_64 and aarch64 only, not {machine!r} "
            f"({'64' if sys.maxsize > 2**32 else '32'}-bit); grading stops here"
        )
    return machine


def _program(machine: str) -> list[tuple[int, int, int, int]]:
    """The BPF program as (code, jt, jf, k) instructions; see the module docstring for what it refuses."""
    nr = SYSCALLS[machine]
    asm: list[tuple] = [("ld", ARCH), ("jeq", AUDIT_ARCH[machine], None, "kill"), ("ld", NR)]
    if machine == "x86_64":
        asm.append(("jge", X32_BIT, "eperm", None))
    for name in ("mmap", "mprotect", "pkey_mprotect"):
        asm.append(("jeq", nr[name], "prot", None))
    for name in ("execve", "execveat", "ptrace", "process_vm_writev", "bpf"):
        asm.append(("jeq", nr[name], "eperm", None))
    asm += [
        ("jeq", nr["shmat"], "shmat", None),
        ("jeq", nr["personality"], "eperm", None),
        ("jeq", nr["prctl"], "prctl", None),
        ("ret", RET_ALLOW),
        ("label", "prot"),
        ("ld", arg(2)),
        ("jset", PROT_EXEC, "eperm", "allow"),
        ("label", "shmat"),
        ("ld", arg(2)),
        ("jset", SHM_EXEC, "eperm", "allow"),
        ("label", "prctl"),
        ("ld", arg(0)),
        ("jeq", PR_SET_DUMPABLE, "eperm", "allow"),
        ("label", "allow"),
        ("ret", RET_ALLOW),
        ("label", "eperm"),
        ("ret", RET_EPERM),
        ("label", "kill"),
        ("ret", RET_KILL),
    ]
    return assemble(asm)


def _check_mappings() -> None:
    """Refuse to lock when some memory is writable and executable (code could be written there)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError as exc:
        raise LockError(f"cannot read /proc/self/maps ({exc})") from None
    for line in maps.splitlines():
        fields = line.split()
        perms = fields[1] if len(fields) > 1 else ""
        if "w" in perms and "x" in perms:
            raise LockError(f"memory is writable and executable before the lock: {line.strip()}")
        if "x" in perms and len(fields) > 5 and fields[5].startswith("/memfd:"):
            raise LockError(f"executable memory backed by a memfd (writable elsewhere): {line.strip()}")


def _install_filter() -> None:
    machine = _machine()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise LockError(f"prctl(PR_SET_DUMPABLE, 0) failed: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise LockError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    _check_mappings()
    result = install(libc, machine, _program(machine))
    if result != 0:
        raise LockError(f"seccomp(SECCOMP_SET_MODE_FILTER) failed ({result}): {os.strerror(ctypes.get_errno())}")


def _verify() -> None:
    """The wall is up: executable memory is refused and /proc/self/mem cannot be opened for writing."""
    import mmap

    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
    except PermissionError:
        pass
    else:
        raise LockError("the seccomp filter is not in force (executable memory was granted)")
    try:
        fd = os.open("/proc/self/mem", os.O_RDWR)
    except OSError:
        return
    os.close(fd)
    raise LockError(
        "/proc/self/mem can be opened for writing (running as root?): code pages could be "
        "rewritten; the NumPy-only lock needs an unprivileged user"
    )


# --- 3. courtesy messages (the matplotlib stand-in is in plot_standin.py) ------------------------------------


def _is_extension(spec: importlib.machinery.ModuleSpec) -> bool:
    return isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) or bool(
        spec.origin and spec.origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    )


class NativeImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses extension modules that were not loaded before the lock, naming them (a courtesy)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None) -> None:
        if fullname in sys.modules:
            return None
        for finder in list(sys.meta_path):
            if finder is self or isinstance(finder, MatplotlibStandIn) or not hasattr(finder, "find_spec"):
                continue
            try:
                spec = finder.find_spec(fullname, path, target)
            except Exception:  # noqa: BLE001  (the real import will raise it again)
                return None
            if spec is None:
                continue
            if _is_extension(spec):
                raise ImportError(
                    N_("{module} is compiled code ({path}): {message}.").format(
                        module=fullname, path=spec.origin, message=MESSAGE
                    ),
                    name=fullname,
                    path=spec.origin,
                )
            return None
        return None


def _mapped_files() -> set[str]:
    try:
        return {
            line.split(None, 5)[5].strip()
            for line in Path("/proc/self/maps").read_text().splitlines()
            if len(line.split(None, 5)) == 6
        }
    except OSError:
        return set()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Clear messages for what the wall refuses anyway (an audit hook cannot be removed, but is
    no security boundary)."""
    if event == "ctypes.dlopen":
        name = args[0] if args else None
        if not name:
            return  # the program itself: already loaded
        path = os.fspath(name)
        mapped = _mapped_files()
        if os.path.realpath(path) in mapped or any(os.path.basename(f).startswith(path) for f in mapped):
            return  # already loaded: dlopen maps nothing new
        raise ImportError(
            N_("ctypes cannot load {path}: it is compiled code, and {message}.").format(path=path, message=MESSAGE)
        )
    if (
        event == "import"
        and len(args) > 1
        and isinstance(args[1], str)
        and args[1].endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    ):  # an extension module's file
        if os.path.realpath(args[1]) not in _mapped_files():
            raise ImportError(
                N_("{module} is compiled code ({path}): {message}.").format(
                    module=args[0], path=args[1], message=MESSAGE
                ),
                name=str(args[0]),
                path=args[1],
            )
        return
    if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system"):
        what = args[0] if args else "?"
        if event == "subprocess.Popen" and len(args) > 1 and not args[0]:
            what = args[1]
        raise PermissionError(
            N_("{event} ({what}) cannot run another program: {message}.").format(
                event=event, what=str(what)[:200], message=MESSAGE
            )
        )


def refusal_in(exc: BaseException) -> str:
    """`` (because: ...)`` naming the refused native code when a library turned the lock's refusal
    into an error of its own (SciPy: "your install seems to be broken"); else ``""``."""
    seen: set[int] = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if MESSAGE in str(cause):
            return "" if MESSAGE in str(exc) else " " + N_("(because: {cause})").format(cause=str(cause)[:400])
        cause = cause.__cause__ or cause.__context__
    return ""


def _install_import_hooks() -> None:
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, NativeImportBlocker())
    sys.meta_path.insert(0, MatplotlibStandIn())
    importlib.import_module("matplotlib.pyplot")


def lock() -> None:
    """Load NumPy and the standard library's extension modules, then forbid any other native
    code in this process for good (see the module docstring). Raises :class:`LockError` when
    the lock cannot be made certain: the caller must then not run the student's code."""
    global _LOCKED
    if _LOCKED:
        return
    _machine()  # fail before doing anything on an architecture the filter does not know
    _preload()
    _install_import_hooks()
    _install_filter()
    _LOCKED = True
    _verify()
    sys.addaudithook(_audit)
