"""nbgrader's autograde kernel in the sandbox: real kernels, run through nbgrader's own Execute.

Each test runs a small notebook in a real sandboxed IPython kernel and looks at what the
student's code could and could not do. One kernel per test module run: the cells are
independent probes whose outputs the tests read.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import nbformat
import pytest

from grader_utils.grading.graded_run import SandboxedExecute
from grader_utils.sandbox import bwrap as sandbox

pytestmark = [pytest.mark.sandbox]

PROBES = {
    "whoami": "import os; print(os.getuid())",
    "read_secret": "print(open(SECRET).read())",
    "write_secret": "open(SECRET, 'w').write('hacked')",
    "list_course": "import os; print(sorted(os.listdir(COURSE)))",
    "network": "import socket; s = socket.create_connection(('127.0.0.1', PORT), timeout=3); print('connected')",
    "write_cwd": "open('scratch.txt', 'w').write('mine'); print(open('scratch.txt').read())",
    "numpy": "import numpy as np; print(np.arange(3).sum())",
    "spam": "for i in range(300000): print('spam line', i)",
    # outputs the caps did not count before #23.1: an error's traceback, display updates, widget state
    "big_error": "raise ValueError('x' * 3_000_000)",
    "display_updates": (
        "from IPython.display import display, update_display\n"
        "for i in range(100):\n    display({'text/plain': 'd'}, display_id='same', raw=True)\n"
        "update_display({'text/plain': 'u' * 50_000}, display_id='same', raw=True)"
    ),
    "widget_state": (
        "from comm import create_comm\n"
        "c = create_comm(target_name='jupyter.widget', data={'state': {'v': 'x' * 100_000}, 'buffer_paths': []})\n"
        "for i in range(30):\n    c.send({'method': 'update', 'state': {f'v{i}': 'y' * 100_000}, 'buffer_paths': []})\n"
        "print('sent')"
    ),
    "memory": "x = bytearray(16 * 1024 ** 3)",
    "fork_bomb": (
        "import os\npids = []\ntry:\n    for _ in range(2000):\n        pid = os.fork()\n"
        "        if pid == 0:\n            import time; time.sleep(30); os._exit(0)\n"
        "        pids.append(pid)\nexcept OSError as e:\n    print('fork refused after', len(pids))\n"
        "for p in pids:\n    os.kill(p, 9)"
    ),
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    """Outputs of every probe cell, run in one sandboxed kernel with a fake course directory hidden."""
    if not sandbox.available():
        pytest.fail("bubblewrap is needed (make install installs it as root)")
    course = tmp_path_factory.mktemp("course")
    secret = course / "source" / "answers.txt"
    secret.parent.mkdir()
    secret.write_text("the solutions")
    workdir = tmp_path_factory.mktemp("autograded")
    (workdir / "data.txt").write_text("a file next to the notebook")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted: list[bool] = []
    threading.Thread(target=lambda: accepted.append(bool(listener.accept())), daemon=True).start()

    setup = f"SECRET = {str(secret)!r}; COURSE = {str(course)!r}; PORT = {port}"
    cells = [nbformat.v4.new_code_cell(setup)] + [nbformat.v4.new_code_cell(src) for src in PROBES.values()]
    cells.append(nbformat.v4.new_code_cell("print(open('data.txt').read())"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "some-bogus-kernel", "display_name": "bogus", "language": "python"}
    from traitlets.config import Config

    config = Config()
    config.SandboxedKernelManager.hide = [str(course)]
    ex = SandboxedExecute(config=config, timeout=120, max_output_bytes=64 * 1024)
    ex.preprocess(nb, {"metadata": {"path": str(workdir)}})
    listener.close()
    out = {name: list(nb.cells[i + 1].outputs) for i, name in enumerate(PROBES)}
    out["data"] = list(nb.cells[-1].outputs)
    out["_accepted"] = [{"accepted": bool(accepted)}]
    out["_secret_after"] = [{"text": secret.read_text()}]
    out["_workdir_files"] = [{"files": sorted(p.name for p in workdir.iterdir())}]
    out["_metadata"] = [{"size": len(json.dumps(nb.metadata))}]
    return out


def _text(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


def _error(outputs: list[dict]) -> str:
    errors = [o for o in outputs if o.get("output_type") == "error"]
    return errors[0]["ename"] + ": " + errors[0]["evalue"] if errors else ""


def test_runs_as_its_own_user_in_the_course_kernel_despite_a_bogus_kernelspec(probed):
    import os

    from grader_utils.sandbox.isolation import UID_BASE, UID_COUNT

    uid = int(_text(probed["whoami"]).strip())
    if os.geteuid() == 0:  # a user id of the sandbox range, not the shared nobody
        assert UID_BASE <= uid < UID_BASE + UID_COUNT
    else:
        assert uid == os.getuid()
    assert _text(probed["numpy"]).strip() == "3"


def test_course_directory_is_hidden(probed):
    assert "FileNotFoundError" in _error(probed["read_secret"])
    assert _text(probed["list_course"]).strip() == "[]"


def test_cannot_write_the_course_directory(probed):
    assert _error(probed["write_secret"])  # read-only or missing: either way an error
    assert probed["_secret_after"][0]["text"] == "the solutions"


def test_no_network(probed):
    assert _error(probed["network"]).startswith(("OSError", "ConnectionRefusedError", "TimeoutError"))
    assert probed["_accepted"][0]["accepted"] is False


def test_writes_go_to_a_private_copy_of_the_notebook_folder(probed):
    assert _text(probed["write_cwd"]).strip() == "mine"
    assert _text(probed["data"]).strip() == "a file next to the notebook"
    assert "scratch.txt" not in probed["_workdir_files"][0]["files"]


def test_output_is_capped_per_cell(probed):
    text = _text(probed["spam"])
    assert "output truncated" in text
    assert len(text) < 80 * 1024


def test_every_kind_of_output_is_counted_by_the_caps(probed):
    # a 3 MB exception message (its traceback repeats it), 100 displays rewritten with 50 kB each, 3 MB of
    # widget state: each was kept whole before (64 KiB allowed per cell here)
    for name in ("big_error", "display_updates"):
        assert len(json.dumps(probed[name])) < 80 * 1024, name
        assert "output truncated" in _text(probed[name]), name
    assert _error(probed["big_error"]).startswith("ValueError: xxx")  # the error is still named
    assert probed["_metadata"][0]["size"] < 80 * 1024


def test_memory_and_process_limits(probed):
    assert "MemoryError" in _error(probed["memory"])
    assert "fork refused after" in _text(probed["fork_bomb"])


def test_kernel_scratch_is_removed(probed):
    from grader_utils.sandbox.kernel import SandboxedKernelManager

    assert SandboxedKernelManager.created, "the probe kernel should have had a scratch folder"
    assert [p for p in SandboxedKernelManager.created if p.exists()] == []


@pytest.mark.root(why="a user id and a cgroup per kernel")
def test_kernel_cgroup_is_removed_and_its_user_released(probed):
    import fcntl

    from grader_utils.sandbox.isolation import lock_dir
    from grader_utils.sandbox.kernel import SandboxedKernelManager

    assert SandboxedKernelManager.isolated, "the probe kernel should have had its own user id"
    for uid, folders in SandboxedKernelManager.isolated:
        assert folders, "the probe kernel should have had its own cgroup"
        assert [f for f in folders if f.exists()] == []
        with open(lock_dir() / f"{uid}.lock") as lock:  # free again: the lock can be taken
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.root(why="a cgroup per kernel")
def test_memory_is_limited_over_all_processes_of_the_kernel(tmp_path):
    """Four children of 0.8 GB each in a kernel limited to 2 GB: each is under the per-process limit,
    but together they pass the kernel's cgroup limit, and the OOM killer stops some of them."""
    from traitlets.config import Config

    code = (
        "import os, time\npids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n"
        "        block = b'x' * int(0.8 * 1024 ** 3)\n        time.sleep(3)\n        os._exit(0)\n"
        "    pids.append(pid)\nprint('children', [os.waitpid(p, 0)[1] for p in pids])"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    config = Config()
    config.SandboxedKernelManager.hide = [str(tmp_path)]
    config.SandboxedKernelManager.memory_bytes = 2 * 1024**3
    SandboxedExecute(config=config, timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    text = _text(nb.cells[0].outputs)
    assert text.startswith("children"), nb.cells[0].outputs
    codes = eval(text.split(" ", 1)[1])
    assert 9 in codes, codes  # SIGKILL from the cgroup's OOM killer


def test_the_kernel_sees_the_package_and_not_a_folder_guessed_from_it(monkeypatch, tmp_path):
    """What the kernel must see is the package's own folder (wherever it is installed); what it must not see is
    the graded course (named by nbgrader, set per run), the working folder and the exchange, never a folder
    derived from where the package lies (a site-packages would hide the environment the kernel runs in)."""
    import grader_utils
    from grader_utils.sandbox import kernel

    package = Path(grader_utils.__file__).resolve().parent
    assert package == kernel.PACKAGE_DIR
    course = tmp_path / "course"
    course.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kernel.SandboxedKernelManager, "course_hide", [course])
    hidden = [Path(h) for h in kernel._default_hide()]
    assert course in hidden and tmp_path in hidden
    assert not any(h == package or h in package.parents for h in hidden if h not in (tmp_path, course))
    masks = kernel.grader_module_masks()
    assert str(package / "judge") in masks and str(package / "checks.py") in masks
