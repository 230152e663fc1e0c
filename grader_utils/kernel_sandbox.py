"""nbgrader's autograde kernel, run in the bubblewrap sandbox of :mod:`sandbox`.

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
* a cap on the outputs each cell can produce (a cell printing without end fills the grader's
  memory otherwise), and the course's Python kernel whatever kernelspec the notebook names.

nbgrader_config.py puts :class:`SandboxedExecute` in place of nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors`` (validation on a student's machine is not affected).
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
from nbformat import NotebookNode
from traitlets import Integer, List, Unicode

from nbgrader.preprocessors import Execute

from .isolation import SandboxCgroup, SandboxUser
from .sandbox import Limits, bwrap_args, chown_for_sandbox, sandbox_cgroup, sandbox_identity

__all__ = ["SandboxedKernelManager", "SandboxedExecute", "KERNEL_LIMITS", "PASS_ENV"]

#: TensorFlow reserves a lot of address space at import, so the memory limit is generous;
#: it still stops a memory bomb long before the machine runs out.
KERNEL_LIMITS = Limits(wall_seconds=0, cpu_seconds=900, memory_bytes=12 * 1024 ** 3, processes=256,
                       file_bytes=256 * 1024 ** 2)
#: variables of the grading process that the kernel may see (nbgrader's flags)
PASS_ENV = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "GRADER_ENGINE", "GRADER_SYNTHETIC")
_COURSE_ROOT = Path(__file__).resolve().parent.parent


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox (see the module docstring)."""

    hide = List(Unicode(), help="folders the kernel must not see (default: the course directory and "
                                "nbgrader's exchange)").tag(config=True)
    memory_bytes = Integer(KERNEL_LIMITS.memory_bytes).tag(config=True)
    cpu_seconds = Integer(KERNEL_LIMITS.cpu_seconds).tag(config=True)
    processes = Integer(KERNEL_LIMITS.processes).tag(config=True)

    _scratch: Path | None = None
    _user: SandboxUser | None = None
    _cgroup: SandboxCgroup | None = None
    #: the submission folder whose plain files the kernel gets (set by SandboxedExecute per notebook)
    submission_dir: Path | None = None
    #: scratch folders this process's kernels used (each removed when its kernel is shut down)
    created: list[Path] = []
    #: (uid, cgroup folders) of this process's kernels (the uid released, the folders removed at shutdown)
    isolated: list[tuple[int | None, list[Path]]] = []

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        # a short path: Unix socket names are limited to ~100 bytes
        self._scratch = Path(tempfile.mkdtemp(prefix="k-"))  # under $TMPDIR: a grading worker's own folder
        SandboxedKernelManager.created.append(self._scratch)
        os.chmod(self._scratch, 0o755)
        work = self._scratch / "work"
        work.mkdir()
        source = SandboxedKernelManager.submission_dir  # the student's own files, never the autograded folder
        if source is not None and Path(source).is_dir():
            copy_workdir(Path(source), work, skip=self._scratch)
        self.transport = "ipc"
        self.connection_file = str(self._scratch / "kernel.json")
        self.ip = str(self._scratch / "ipc")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        os.chmod(self.connection_file, 0o644)
        self._release_isolation()
        # a user id of its own (the process limit is this kernel's alone) and, as root, a cgroup of its own
        self._user, notes = sandbox_identity()
        chown_for_sandbox(self._scratch, self._user)
        env = {k: v for k, v in (kw.get("env") or os.environ).items() if k in PASS_ENV}
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        env["JPY_PARENT_PID"] = "1"
        hide = [Path(p) for p in (self.hide or _default_hide())]
        limits = Limits(cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes, processes=self.processes,
                        file_bytes=KERNEL_LIMITS.file_bytes)
        prefix = bwrap_args(self._scratch, hide=hide, expose=[_COURSE_ROOT / "grader_utils"], env=env,
                            limits=limits, user=self._user)
        # the sandbox's working folder is the scratch root; start the kernel in the copy of the notebook's folder
        i = prefix.index("--chdir")
        prefix[i + 1] = str(work)
        self._cgroup, more = sandbox_cgroup(limits)
        for note in notes + more:
            self.log.info("sandboxed kernel: %s", note)
        SandboxedKernelManager.isolated.append((self._user.uid if self._user else None,
                                                list(self._cgroup.dirs.values()) if self._cgroup else []))
        if self._cgroup is not None:
            # Jupyter starts the kernel from a command list (no preexec_fn): a tiny wrapper joins the cgroup
            # and execs bwrap, so that everything in the sandbox is counted from its first instruction
            prefix = [sys.executable, "-I", str(Path(__file__).with_name("cgexec.py")),
                      *self._cgroup.procs_files, "--", *prefix]
        kw["cwd"] = str(work)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        kw["stdin"] = subprocess.DEVNULL
        return prefix + cmd, kw

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

    def _remove_scratch(self, restart: bool) -> None:
        if self._scratch is not None and not restart:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


#: most bytes of the notebook's folder copied into the kernel's scratch folder
COPY_BUDGET = 256 * 1024 ** 2


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
        dirs[:] = [d for d in dirs if not (here / d).is_symlink() and (here / d).resolve() != skip
                   and skip not in (here / d).resolve().parents]
        target = dest / here.relative_to(src)
        target.mkdir(exist_ok=True)
        for name in files:
            path = here / name
            st = path.lstat()
            if (not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or name.endswith((".ipynb", ".grading.json"))
                    or used + st.st_size > budget):
                continue
            shutil.copyfile(path, target / name, follow_symlinks=False)
            used += st.st_size
    return used


def _default_hide() -> list[str]:
    """The course directory (sources, gradebook, submissions, feedback) and nbgrader's exchange."""
    hide = [str(_COURSE_ROOT), os.getcwd(), "/srv/nbgrader", os.environ.get("NBGRADER_EXCHANGE_ROOT", "/")]
    return [h for h in dict.fromkeys(hide) if Path(h).exists() and Path(h) != Path("/")]


def _release_demo_cells(root: Path, assignment: str, notebook: str) -> dict[str, str]:
    """{cell id: source} of the lesson demo cells (tag ``demo``) of the release notebook being graded."""
    from .engine import release_demo_cells

    try:
        return release_demo_cells(root / "release" / assignment / f"{notebook}.ipynb")
    except (OSError, ValueError):
        return {}


class _Submission:
    """Where the notebook being autograded comes from (read from nbgrader's resources)."""

    def __init__(self, resources: Any) -> None:
        info = resources["nbgrader"]
        self.autograded = Path(resources["metadata"]["path"]).resolve()  # autograded/<student>/<assignment>
        self.root = self.autograded.parents[2]
        self.student, self.assignment, self.notebook = info["student"], info["assignment"], info["notebook"]
        self.db_url = info.get("db_url")
        self.folder = self.root / "submitted" / self.student / self.assignment
        self.source_nb = self.root / "source" / self.assignment / f"{self.notebook}.ipynb"


def zero_notebook_scores(db_url: str, assignment: str, student: str, notebook: str) -> None:
    """Set every auto score of one submitted notebook to 0 (before it is graded: a run that fails
    half-way leaves 0, never the scores of an earlier run)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            submitted = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return
        for grade in submitted.grades:
            if grade.auto_score is not None:
                grade.auto_score = 0.0
        gb.db.commit()


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor with :class:`SandboxedKernelManager`, output caps, and the
    trusted engine's verdicts as the test cells' outputs.

    The kernel runs the student's cells (its outputs are what the feedback shows); the course's
    checks do not run in it (``GRADER_ENGINE=1``). The engine (:mod:`engine`) then grades the
    submitted notebook in its own sandbox, and its verdicts become the test cells' outputs, from
    which nbgrader's SaveAutoGrades takes the scores, and the record
    ``<notebook>.grading.json``. So the formgrader's Autograde button, ``nbgrader autograde`` and
    ``cnn-course grade`` all grade the same trusted way. Fail closed: the notebook's scores are set
    to 0 first; a submission folder holding links or special files is refused; if the engine
    fails, every test cell gets an error output (0 points) and the record says why."""

    kernel_name = Unicode("python3", help="the kernel every submission runs in, whatever its metadata says"
                          ).tag(config=True)
    max_output_bytes = Integer(2 * 1024 ** 2, help="outputs kept per cell; the rest is dropped with a note"
                               ).tag(config=True)
    max_notebook_output_bytes = Integer(8 * 1024 ** 2, help="outputs kept for the whole notebook; the rest is "
                                                            "dropped with a note").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._cell_bytes: dict[int, int] = {}
        self._total_bytes = 0
        self._demo_cells: dict[str, str] = {}

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        from .secure_grade import engine_verdicts, put_verdicts

        try:
            sub: _Submission | None = _Submission(resources)
        except (KeyError, TypeError, IndexError):
            sub = None  # not nbgrader's autograde (e.g. a test running a notebook): no verdicts, no points
        if sub is not None and sub.db_url:
            zero_notebook_scores(sub.db_url, sub.assignment, sub.student, sub.notebook)
        refused = refused_entries(sub.folder) if sub is not None and sub.folder.is_dir() else []
        self._demo_cells = _release_demo_cells(sub.root, sub.assignment, sub.notebook) if sub is not None else {}
        self._cell_bytes, self._total_bytes = {}, 0
        if sub is not None:
            SandboxedKernelManager.submission_dir = None if refused else sub.folder
        else:
            path = (resources or {}).get("metadata", {}).get("path")
            SandboxedKernelManager.submission_dir = Path(path) if path else None
        old = os.environ.get("GRADER_ENGINE")
        os.environ["GRADER_ENGINE"] = "1"
        kernel_problem = ""
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except Exception as exc:  # noqa: BLE001  (the kernel's run only gives the feedback its outputs)
            kernel_problem = f"the notebook's kernel stopped ({type(exc).__name__}: {str(exc)[:200]})"
        finally:
            SandboxedKernelManager.submission_dir = None
            if old is None:
                os.environ.pop("GRADER_ENGINE", None)
            else:
                os.environ["GRADER_ENGINE"] = old
        if sub is None:
            put_verdicts(nb, [])
        else:
            engine_verdicts(nb, sub.root, sub.assignment, sub.student, sub.notebook, refused=refused,
                            note=kernel_problem)
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        # an unchanged lesson demo defines nothing the tests use; while the engine grades, skip it
        if self._demo_cells.get(cell.get("id", "")) == cell.get("source"):
            return cell, resources
        # test cells are the engine's: the kernel never runs them (their outputs are the verdicts)
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.get("cell_type") == "code":
            cell.outputs = []
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

    def output(self, outs: list[NotebookNode], msg: dict, display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._cell_bytes.get(cell_index, 0)
        self._cell_bytes[cell_index] = used + size
        total = self._total_bytes
        self._total_bytes = total + size
        limit, whole = self.max_output_bytes, self.max_notebook_output_bytes
        if used > limit or total > whole:
            return None
        if used + size > limit or total + size > whole:
            what = (f"this cell printed more than {limit // 1024} KiB" if used + size > limit
                    else f"the notebook printed more than {whole // 1024 ** 2} MiB")
            note = NotebookNode(output_type="stream", name="stdout", text=f"\n[output truncated: {what}]\n")
            outs.append(note)
            return note
        return super().output(outs, msg, display_id, cell_index)
