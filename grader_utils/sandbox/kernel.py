"""nbgrader's autograde kernel, run in the bubblewrap sandbox of :mod:`.bwrap`.

Plain ``nbgrader autograde`` starts the student's kernel as the grader's own user: student
code could read ``source/`` (the solutions and hidden tests), write ``gradebook.db`` or other
students' files, and reach the network. Here every autograde kernel instead gets

* its own scratch folder (a copy of the notebook's folder) as working directory, the only
  place it can write; a private, size-limited ``/tmp``;
* of the host's files only the allow-list of :func:`sandbox.bwrap_args` (the system's
  programs and libraries, a few files of ``/etc``, the Python installation without its
  packages, the virtualenv and ``grader_utils``, read-only): no other course, no home folders,
  and the course directory and nbgrader's exchange hidden even where they fall inside it;
* no network: the kernel talks to nbgrader over Unix sockets (ZMQ ``ipc`` transport) in its
  scratch folder, so it can live in an empty network namespace;
* a user id of its own and, as root, a cgroup of its own (:mod:`isolation`: memory of all its
  processes together, tasks, CPU weight; joined by the :mod:`cgexec` wrapper in front of
  ``bwrap``, removed when the kernel is shut down), and per-process limits on memory, CPU time,
  file size and processes (``prlimit``); its own stdout/stderr (outside the notebook's outputs)
  go nowhere;
* in the NumPy-only notebooks (01, 02), the grader's own modules that compute answers
  (:data:`MASKED_GRADER_MODULES`: Keras' ground truth, the checks and their NumPy helpers) replaced
  by stubs whose import says why it is refused;
* a cap on the outputs each cell can produce (a cell printing without end fills the grader's
  memory otherwise), and the course's Python kernel whatever kernelspec the notebook names.

The autograde preprocessor that starts these kernels and makes the engine's calls in them is
:class:`graded_run.SandboxedExecute` (validation on a student's machine is not affected).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, List, Unicode, default

from ..i18n import N_
from .bwrap import Limits, bwrap_args, chown_for_sandbox, sandbox_cgroup, sandbox_identity
from .isolation import SandboxCgroup, SandboxUser

__all__ = [
    "SandboxedKernelManager",
    "KERNEL_LIMITS",
    "MASKED_GRADER_MODULES",
    "PACKAGE_DIR",
    "PASS_ENV",
    "copy_workdir",
    "grader_module_masks",
    "refused_entries",
]

#: TensorFlow reserves a lot of address space at import, so the memory limit is generous;
#: it still stops a memory bomb long before the machine runs out.
KERNEL_LIMITS = Limits(
    wall_seconds=0, cpu_seconds=900, memory_bytes=12 * 1024**3, processes=256, file_bytes=256 * 1024**2
)
#: variables of the grading process that the kernel may see (nbgrader's flags)
PASS_ENV = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "GRADER_ENGINE", "GRADER_SYNTHETIC")
#: the package's own folder (``grader_utils/``): the one folder of this code a kernel must see (its probe, the
#: NumPy-only lock), wherever it is installed (a virtualenv's site-packages, a course checkout); never a
#: course directory (which course is graded comes from nbgrader's CourseDirectory, see GradingContext)
PACKAGE_DIR = Path(__file__).resolve().parent.parent


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox (see the module docstring)."""

    hide = List(
        Unicode(), help="folders the kernel must not see (default: the course directory and nbgrader's exchange)"
    ).tag(config=True)
    memory_bytes = Integer(
        KERNEL_LIMITS.memory_bytes, help="the sandbox's memory (default: as the grading worker's budget sized it)"
    ).tag(config=True)
    cpu_seconds = Integer(KERNEL_LIMITS.cpu_seconds).tag(config=True)
    processes = Integer(KERNEL_LIMITS.processes).tag(config=True)

    @default("memory_bytes")
    def _memory_default(self) -> int:
        # a grading worker's share of the machine (instructor/budget.py), else the kernel's own limit
        value = os.environ.get("CNN_SANDBOX_MEMORY_BYTES", "")
        return int(value) if value.isdigit() else KERNEL_LIMITS.memory_bytes

    _scratch: Path | None = None
    _user: SandboxUser | None = None
    _cgroup: SandboxCgroup | None = None
    #: the submission folder whose plain files the kernel gets (set by graded_run.SandboxedExecute per notebook)
    submission_dir: Path | None = None
    #: start the kernel locked to NumPy and the standard library (:mod:`native_lock`, :mod:`locked_kernel`)
    numpy_only: bool = False
    #: a graded kernel: the grader's judging modules are masked (:data:`MASKED_GRADER_MODULES`)
    mask_grader: bool = False
    #: the graded course's folders (its directory, its exchange), hidden besides the defaults (set by
    #: graded_run.SandboxedExecute per notebook, from nbgrader's CourseDirectory)
    course_hide: list[Path] = []
    #: the folder through which the grading process makes calls into this kernel (see :mod:`probe`)
    probe_folder: Path | None = None
    #: scratch folders this process's kernels used (each removed when its kernel is shut down)
    created: list[Path] = []
    #: managers whose kernels may still hold a process, a user id, a cgroup or a scratch folder
    live: list[SandboxedKernelManager] = []
    #: (uid, cgroup folders) of this process's kernels (the uid released, the folders removed at shutdown)
    isolated: list[tuple[int | None, list[Path]]] = []

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        # a short path: Unix socket names are limited to ~100 bytes
        self._scratch = Path(tempfile.mkdtemp(prefix="k-"))  # under $TMPDIR: a grading worker's own folder
        SandboxedKernelManager.created.append(self._scratch)
        SandboxedKernelManager.live.append(self)
        os.chmod(self._scratch, 0o755)
        work = self._scratch / "work"
        work.mkdir()
        self.probe_folder = self._scratch / "probe"
        self.probe_folder.mkdir()
        source = SandboxedKernelManager.submission_dir  # the student's own files, never the autograded folder
        if source is not None and Path(source).is_dir():
            copy_workdir(Path(source), work, skip=self._scratch)
        self.transport = "ipc"
        self.connection_file = str(self._scratch / "kernel.json")
        self.ip = str(self._scratch / "ipc")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if SandboxedKernelManager.numpy_only:  # the same kernel, locked before any cell runs
            cmd = [cmd[0], "-m", "grader_utils.sandbox.locked_kernel", *cmd[cmd.index("ipykernel_launcher") + 1 :]]
        os.chmod(self.connection_file, 0o644)
        self._release_isolation()
        # a user id of its own (the process limit is this kernel's alone) and, as root, a cgroup of its own
        self._user, notes = sandbox_identity()
        chown_for_sandbox(self._scratch, self._user)
        env = {k: v for k, v in (kw.get("env") or os.environ).items() if k in PASS_ENV}
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        env["JPY_PARENT_PID"] = "1"
        # the graded course is hidden whatever else is configured
        course = [str(p) for p in SandboxedKernelManager.course_hide]
        hide = [Path(p) for p in dict.fromkeys([*(self.hide or _default_hide()), *course])]
        limits = Limits(
            cpu_seconds=self.cpu_seconds,
            memory_bytes=self.memory_bytes,
            processes=self.processes,
            file_bytes=KERNEL_LIMITS.file_bytes,
        )
        extra = grader_module_masks() if SandboxedKernelManager.mask_grader or SandboxedKernelManager.numpy_only else []
        prefix = bwrap_args(
            self._scratch,
            hide=hide,
            expose=[PACKAGE_DIR],
            env=env,
            limits=limits,
            user=self._user,
            extra=extra,
        )
        # the sandbox's working folder is the scratch root; start the kernel in the copy of the notebook's folder
        i = prefix.index("--chdir")
        prefix[i + 1] = str(work)
        self._cgroup, more = sandbox_cgroup(limits)
        for note in notes + more:
            self.log.info("sandboxed kernel: %s", note)
        SandboxedKernelManager.isolated.append(
            (self._user.uid if self._user else None, list(self._cgroup.dirs.values()) if self._cgroup else [])
        )
        if self._cgroup is not None:
            # Jupyter starts the kernel from a command list (no preexec_fn): a tiny wrapper joins the cgroup
            # and execs bwrap, so that everything in the sandbox is counted from its first instruction
            prefix = [
                sys.executable,
                "-I",
                str(Path(__file__).with_name("cgexec.py")),
                *self._cgroup.procs_files,
                "--",
                *prefix,
            ]
        kw["cwd"] = str(work)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        kw["stdin"] = subprocess.DEVNULL
        return prefix + cmd, kw

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt by message (the kernel sends itself SIGINT): a signal to the process we started
        would reach bubblewrap, not the kernel in its own PID namespace, and end the sandbox."""
        if not self.has_kernel:
            raise RuntimeError("Cannot interrupt kernel. No kernel is running!")
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)

    interrupt_kernel = _async_interrupt_kernel  # what nbclient calls (the base class binds its own)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        self._release_isolation()  # the kernel is gone; a restart allocates a fresh user id and cgroup
        self._remove_scratch(restart)

    def _release_isolation(self) -> None:
        """Kill what is left in the kernel's cgroup, remove it, and give its user id back."""
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._user is not None:
            self._user.release()
            self._user = None

    def force_cleanup(self) -> None:
        """Whatever happened to the kernel (it died, ignored an interrupt, or its run raised): kill what
        is left of it and release its user id, cgroup and scratch folder. Safe to call more than once."""
        import signal as _signal

        process = getattr(self.provisioner, "process", None) if self.provisioner is not None else None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, _signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                process.kill()
            process.wait()
        self._release_isolation()
        self._remove_scratch(False)
        if self in SandboxedKernelManager.live:
            SandboxedKernelManager.live.remove(self)

    def _remove_scratch(self, restart: bool) -> None:
        if self._scratch is not None and not restart:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


#: what a graded kernel cannot import (each replaced by a stub whose import raises ImportError): the
#: judging core (Keras' ground truth, cases, verdicts), the grading and instructor sides, and the
#: notebook modules that compute answers (the checks, the figures). The kernel keeps what it needs
#: to be called: the ``sandbox`` package (probe, protocol, model calls, the NumPy-only lock),
#: ``quiet`` and ``datasets``.
MASKED_GRADER_MODULES = ("judge", "grading", "instructor", "checks", "model_checks", "figures", "truth", "exporters")
#: what importing a masked module says while grading
MASKED_MESSAGE = N_(
    "grader_utils.{name} is not available while this notebook is graded: its exercises are "
    "arithmetic or NumPy code that you write. Under grading, Keras and the grader's own "
    "functions are not available; compute the answer yourself."
)
_MASKS: list[Path] = []


def grader_module_masks(names: tuple[str, ...] = MASKED_GRADER_MODULES) -> list[str]:
    """bwrap arguments that put a stub over each of ``names`` (a module ``grader_utils/<name>.py`` or a
    package ``grader_utils/<name>/``, whose import then raises ImportError with :data:`MASKED_MESSAGE`)
    and an empty folder over ``grader_utils/__pycache__`` (the compiled copies). The stubs are written
    once per grading process, read-only."""
    package = PACKAGE_DIR
    if not _MASKS or not _MASKS[0].is_dir():
        folder = Path(tempfile.mkdtemp(prefix="grader-masks-"))
        for name in MASKED_GRADER_MODULES:
            text = f"raise ImportError({MASKED_MESSAGE.format(name=name)!r})\n"
            (folder / name).mkdir()
            for stub in (folder / f"{name}.py", folder / name / "__init__.py"):
                stub.write_text(text)
                os.chmod(stub, 0o444)
            os.chmod(folder / name, 0o555)
        os.chmod(folder, 0o555)
        _MASKS[:] = [folder]
    args: list[str] = []
    for name in names:
        if (package / name).is_dir():
            args += ["--ro-bind", str(_MASKS[0] / name), str(package / name)]
        elif (package / f"{name}.py").exists():
            args += ["--ro-bind", str(_MASKS[0] / f"{name}.py"), str(package / f"{name}.py")]
    if (package / "__pycache__").is_dir():
        args += ["--tmpfs", str(package / "__pycache__")]
    return args


#: most bytes of the notebook's folder copied into the kernel's scratch folder
COPY_BUDGET = 256 * 1024**2


def refused_entries(folder: Path) -> list[str]:
    """What in a submission folder is not a plain file or folder (symlinks, hard links to files
    elsewhere, FIFOs, sockets, devices): such entries are never copied into a sandbox, and a
    submission that holds one is refused with this list as the reason."""
    refused = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(here) / name
            st = path.lstat()
            rel = str(path.relative_to(folder))
            if stat.S_ISLNK(st.st_mode):
                refused.append(f"{rel} (a symbolic link)")
            elif stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                refused.append(f"{rel} (a hard link)")
            elif not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                refused.append(f"{rel} (a FIFO, socket or device)")
    return refused


def copy_workdir(src: Path, dest: Path, skip: Path, budget: int = COPY_BUDGET) -> int:
    """Copy the plain files of the submission folder ``src`` (data files the student submitted)
    into ``dest``, leaving out ``skip``, notebooks (the autograded copy holds the hidden tests),
    links, special files and anything past ``budget`` bytes; returns the bytes copied."""
    used = 0
    skip = skip.resolve()
    for folder, dirs, files in os.walk(src, followlinks=False):
        here = Path(folder)
        dirs[:] = [
            d
            for d in dirs
            if not (here / d).is_symlink() and (here / d).resolve() != skip and skip not in (here / d).resolve().parents
        ]
        target = dest / here.relative_to(src)
        target.mkdir(exist_ok=True)
        for name in files:
            path = here / name
            st = path.lstat()
            if (
                not stat.S_ISREG(st.st_mode)
                or st.st_nlink > 1
                or name.endswith((".ipynb", ".grading.json"))
                or used + st.st_size > budget
            ):
                continue
            shutil.copyfile(path, target / name, follow_symlinks=False)
            used += st.st_size
    return used


def _default_hide() -> list[str]:
    """The graded course's directory and exchange (:attr:`SandboxedKernelManager.course_hide`), the working
    folder (nbgrader's default course root) and nbgrader's default exchange. Never the package's own folder
    or anything above it: the kernel needs the environment the package is installed in."""
    hide = [
        *(str(p) for p in SandboxedKernelManager.course_hide),
        os.getcwd(),
        "/srv/nbgrader",
        os.environ.get("NBGRADER_EXCHANGE_ROOT", "/"),
    ]
    return [h for h in dict.fromkeys(hide) if Path(h).exists() and Path(h) != Path("/")]
