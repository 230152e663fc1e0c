"""The bubblewrap sandbox: what student code can and cannot do (real bubblewrap, real limits)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader_utils.sandbox.bwrap import Limits
from grader_utils.sandbox.runner import run_sandboxed

pytestmark = pytest.mark.sandbox


def run(code: str, **kwargs):
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-"))
    (scratch / "main.py").write_text(code)
    return run_sandboxed(
        [sys.executable, "main.py"], scratch, hide=[ROOT], expose=[ROOT / ".venv", ROOT / "grader_utils"], **kwargs
    ), scratch


def test_scratch_is_writable_and_the_course_is_hidden():
    result, scratch = run(f"""
import os
open("out.txt", "w").write("ok")
print(os.path.exists({str(ROOT / "source")!r}), os.path.exists({str(ROOT / "nbgrader_config.py")!r}))
try:
    open({str(ROOT / "owned.txt")!r}, "w")
except OSError as exc:
    print(type(exc).__name__)
""")
    assert result.ok, result.stderr
    assert result.stdout.split() == ["False", "False", "PermissionError"]
    assert (scratch / "out.txt").read_text() == "ok"
    assert not (ROOT / "owned.txt").exists()


def test_no_network_and_not_root():
    result, _ = run("""
import os, socket
print(os.getuid())
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("connected")
except OSError as exc:
    print("refused")
""")
    assert result.stdout.split()[1] == "refused"
    assert result.stdout.split()[0] != "0"


def test_masked_packages_explain_themselves():
    result, _ = run(
        """
try:
    import scipy.signal
except ImportError as exc:
    print(exc)
""",
        mask_packages=["scipy"],
    )
    assert "not available here" in result.stdout


def test_wall_clock_memory_processes_and_output_are_limited():
    loop, _ = run("while True: pass", limits=Limits(wall_seconds=2))
    assert loop.timed_out and loop.returncode is None
    memory, _ = run("x = bytearray(32 * 1024 ** 3)")
    assert "MemoryError" in memory.stderr
    forks, _ = run(
        """
import os
for n in range(1000):
    try:
        if os.fork() == 0:
            import time; time.sleep(5); os._exit(0)
    except OSError:
        print("refused after", n); break
""",
        limits=Limits(processes=20, wall_seconds=20),
    )
    assert "refused after" in forks.stdout
    spam, _ = run("for i in range(3_000_000): print(i)", limits=Limits(output_bytes=1000))
    assert len(spam.stdout) <= 1000 and spam.dropped_bytes > 1_000_000


def test_exposed_folders_under_tmp_are_reachable(tmp_path):
    """A course kept under /tmp (as in CI's clone or pytest's folders): bwrap creates the folders on the
    way to an exposed path inside the private /tmp, and the unprivileged user must be able to pass them."""
    package = tmp_path / "deep" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 42\n")
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-"))
    (scratch / "main.py").write_text(
        f"import sys\nsys.path.insert(0, {str(package.parent)!r})\nimport pkg\nprint(pkg.VALUE)\n"
    )
    result = run_sandboxed([sys.executable, "main.py"], scratch, expose=[package])
    assert result.ok, result.stderr
    assert result.stdout.strip() == "42"


def test_a_course_inside_an_allowed_folder_is_hidden_and_an_allowed_folder_inside_a_course_is_not(tmp_path):
    """Hidden paths go over the virtualenv and the exposed paths (a course kept inside the environment is hidden),
    and whatever of those lies inside a hidden folder is bound again (a virtualenv inside the course stays)."""
    shown = tmp_path / "env"
    inner_course = shown / "course"
    outer_course = tmp_path / "outer"
    inner_env = outer_course / "env"
    for folder in (inner_course, inner_env):
        folder.mkdir(parents=True)
        (folder / "marker.txt").write_text("here")
    (shown / "shown.txt").write_text("here")
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-"))
    paths = [inner_course / "marker.txt", shown / "shown.txt", inner_env / "marker.txt", outer_course]
    (scratch / "main.py").write_text(f"import os\nprint([os.path.exists(p) for p in {[str(p) for p in paths]!r}])")
    os.chmod(tmp_path, 0o755)
    for path in [shown, inner_course, outer_course, inner_env, *[p for p in paths if p.is_file()]]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    result = run_sandboxed(
        [sys.executable, "main.py"],
        scratch,
        hide=[ROOT, inner_course, outer_course],
        expose=[ROOT / ".venv", ROOT / "grader_utils", shown, inner_env],
    )
    assert result.ok, result.stderr
    assert result.stdout.strip() == "[False, True, True, True]"
