"""Is the grading environment sound? Cheap checks that tell an environment's failure from a student's.

A submission whose kernel died, or whose grading failed, may be the student's doing (fail closed: 0 and the reason)
or the environment's: a kernel that cannot start for anyone, a sandbox that cannot be made, a grading process that
cannot import its modules, a full disk, a course folder moved away from its virtualenv. :func:`environment_problem`
answers which, by checking the environment itself with nothing of the student's: a failure that a sandboxed kernel
with an empty folder shares is the environment's. Every answer names the cause and the fix (an
:class:`EnvironmentProblem`); None means the environment is sound.

These are checks of the *grading process's* machine; :mod:`grader_utils.instructor.preflight` adds the full check
before a class run (the instructor's own solution graded through the whole path).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EnvironmentProblem",
    "MIN_FREE_BYTES",
    "ENVIRONMENT_ERRNOS",
    "is_environment_error",
    "disk_problem",
    "moved_course_problem",
    "sandbox_problem",
    "kernel_problem",
    "environment_problem",
]

#: below this much free space in the temporary folder or the course directory, nothing can be graded reliably
MIN_FREE_BYTES = 64 * 1024**2
#: errors of the machine, not of a submission: no space, no quota, a read-only file system, no memory for a process
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE, errno.ENFILE})
#: the code a check kernel runs: what every graded kernel needs
KERNEL_CHECK = "import numpy\nimport grader_utils.sandbox.probe\nprint('kernel-ok')"


@dataclass
class EnvironmentProblem:
    """What is wrong with the grading environment (``cause``) and what the instructor does about it (``fix``)."""

    cause: str
    fix: str

    def __str__(self) -> str:
        return f"{self.cause}. Fix: {self.fix}"


def is_environment_error(exc: BaseException) -> bool:
    """Whether an exception raised in the grading process is the machine's: a full disk or quota, a read-only file
    system, no file descriptors, or the grading process's own modules that cannot be imported."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in ENVIRONMENT_ERRNOS:
            return True
        if isinstance(e, ImportError):
            return True
        e = e.__cause__ or e.__context__
    return False


def disk_problem(root: Path | None = None) -> EnvironmentProblem | None:
    """The temporary folder (kernels' scratch folders) or the course directory (records, gradebook) nearly full."""
    places = [Path(tempfile.gettempdir())] + ([Path(root)] if root is not None else [])
    for place in places:
        try:
            free = shutil.disk_usage(place).free
        except OSError as exc:
            return EnvironmentProblem(f"{place} cannot be read ({exc})", f"make {place} available to the grader")
        if free < MIN_FREE_BYTES:
            return EnvironmentProblem(
                f"{place} is full ({free // 1024**2} MiB free, the grader needs {MIN_FREE_BYTES // 1024**2} MiB)",
                f"free space on {place} (or point TMPDIR at a folder with space), then grade again",
            )
        probe = None
        try:
            fd, probe = tempfile.mkstemp(dir=place, prefix=".grader-space-")
            with os.fdopen(fd, "wb") as f:
                f.write(b"\0" * 65536)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            return EnvironmentProblem(
                f"{place} cannot be written ({exc.strerror or exc})",
                f"free space on {place} or give the grader write access to it, then grade again",
            )
        finally:
            if probe is not None:
                Path(probe).unlink(missing_ok=True)
    return None


def moved_course_problem(root: Path) -> EnvironmentProblem | None:
    """A course directory that carries the grader's package (this repository) but whose Python imports the package
    from elsewhere: the course was copied or moved with its ``.venv``, whose editable install still points at the
    old place (the kernels would run the old copy's code, or none)."""
    import grader_utils

    own = Path(root).resolve() / "grader_utils"
    if not (own / "__init__.py").is_file():
        return None  # another course using the installed package (docs/any-course.md): nothing to compare
    used = Path(grader_utils.__file__).resolve().parent
    if used == own.resolve():
        return None
    return EnvironmentProblem(
        f"this course directory ({Path(root).resolve()}) runs the grader from {used}: the course was moved or copied "
        f"with its virtualenv, which still points at the old place",
        f"run `make install` in {Path(root).resolve()} (it repairs the virtualenv), then grade again",
    )


def sandbox_problem() -> EnvironmentProblem | None:
    """The sandbox's programs missing (bubblewrap, util-linux's setpriv)."""
    for program, package in (("bwrap", "bubblewrap"), ("setpriv", "util-linux")):
        if shutil.which(program) is None:
            return EnvironmentProblem(
                f"the sandbox cannot be made: `{program}` is not installed (or not on PATH)",
                f"install it (`sudo apt-get install {package}`, or `make install` as root), then grade again",
            )
    return None


def kernel_problem(timeout: float = 180.0) -> EnvironmentProblem | None:
    """Start one sandboxed kernel, as grading does, with an empty folder, and import what graded kernels need."""
    import nbformat
    from nbclient import NotebookClient

    from ..sandbox.kernel import SandboxedKernelManager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CHECK)])
    before = list(SandboxedKernelManager.live)
    with tempfile.TemporaryDirectory(prefix="kernel-check-") as folder:
        SandboxedKernelManager.submission_dir = Path(folder)
        try:
            NotebookClient(
                nb,
                kernel_name="python3",
                kernel_manager_class=SandboxedKernelManager,
                timeout=int(timeout),
                startup_timeout=int(timeout),
                resources={"metadata": {"path": folder}},
            ).execute()
        except Exception as exc:  # noqa: BLE001  (what stopped it is the cause)
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            return EnvironmentProblem(
                f"a sandboxed kernel cannot start or run ({type(exc).__name__}: {first})",
                "check that the course's virtualenv is complete (`make install`) and that bubblewrap runs "
                "(`bwrap --ro-bind / / true`); the workers' logs hold the kernel's messages",
            )
        finally:
            for manager in [m for m in SandboxedKernelManager.live if m not in before]:
                manager.force_cleanup()
            SandboxedKernelManager.submission_dir = None
    out = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []) if o.get("output_type") == "stream")
    if "kernel-ok" not in out:
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in nb.cells[0].get("outputs", []) if o.get("ename")]
        return EnvironmentProblem(
            f"a sandboxed kernel cannot import what grading needs ({'; '.join(errors)[:300] or 'no output'})",
            "reinstall the course's packages (`make install`), then grade again",
        )
    return None


def environment_problem(root: Path | None = None, kernel: bool = True) -> EnvironmentProblem | None:
    """The first problem of the grading environment found (None: sound): the disk, a moved course, the sandbox's
    programs, and (``kernel``) a sandboxed kernel that starts and imports what grading needs."""
    checks = [lambda: disk_problem(root), sandbox_problem]
    if root is not None:
        checks.insert(1, lambda: moved_course_problem(Path(root)))
    if kernel:
        checks.append(kernel_problem)
    for check in checks:
        problem = check()
        if problem is not None:
            return problem
    return None


if __name__ == "__main__":  # `python -m grader_utils.grading.health [ROOT]`: the checks, as a worker would run them
    found = environment_problem(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(found or "the grading environment is sound")
    sys.exit(1 if found else 0)
