"""sandbox/bwrap.py: bubblewrap's command line (an allow-list of the disk, hidden folders, masked packages,
limits, a clean environment), read without running it (running it: test_runner.py, test_isolation.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from grader_utils.sandbox import bwrap


def _pairs(args: list[str], flag: str, width: int = 2) -> list[tuple[str, ...]]:
    return [tuple(args[i + 1 : i + 1 + width]) for i, a in enumerate(args) if a == flag]


def test_package_dirs_are_found_without_importing():
    before = set(sys.modules)
    dirs = bwrap.package_dirs(["json", "no_such_package_here", "math"])  # math is built in: no folder
    assert dirs == [os.path.realpath(Path(__import__("json").__file__).parent)]
    assert "no_such_package_here" not in sys.modules and set(sys.modules) - before <= {"json"}


def test_masked_packages_are_stubs_that_explain_themselves(tmp_path):
    stubs, args = bwrap.write_stubs(["json", "no_such_package_here"])
    try:
        assert sorted(p.name for p in stubs.iterdir()) == ["json", "no_such_package_here"]
        assert _pairs(args, "--ro-bind") == [(str(stubs / "json"), *bwrap.package_dirs(["json"]))]
        run = subprocess.run(
            [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); import json", str(stubs)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1 and "ImportError: json is not available here" in run.stderr
    finally:
        import shutil

        shutil.rmtree(stubs)


def test_foreign_site_dirs_never_include_the_virtualenvs_own_packages():
    own = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    found = bwrap.foreign_site_dirs()
    assert not own & set(found) and all(p.is_dir() for p in found)


@pytest.mark.skipif(
    not (bwrap.shutil.which("bwrap") and bwrap.shutil.which("setpriv")),
    reason="bwrap_args needs bubblewrap and setpriv installed",
)
def test_the_command_line_hides_limits_and_cleans(tmp_path):
    hidden, scratch = tmp_path / "course", tmp_path / "scratch"
    hidden.mkdir()
    scratch.mkdir()
    (hidden / "gradebook.db").write_text("")
    limits = bwrap.Limits(memory_bytes=2**30, cpu_seconds=7, file_bytes=2**20, processes=9)
    args = bwrap.bwrap_args(scratch, hide=[hidden, hidden / "gradebook.db"], limits=limits, env={"EXTRA": "1"})
    assert args[0] == "bwrap" and {"--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv"} <= set(args)
    assert (str(hidden.resolve()),) in _pairs(args, "--tmpfs", 1)  # the course folder: an empty one inside
    assert ("/dev/null", str((hidden / "gradebook.db").resolve())) in _pairs(args, "--ro-bind")
    assert (str(scratch.resolve()), str(scratch.resolve())) in _pairs(args, "--bind")
    env = dict(_pairs(args, "--setenv"))
    assert env["HOME"] == str(scratch.resolve()) and env["EXTRA"] == "1" and "CNN_COURSE_SECRET_FILE" not in env
    tail = args[args.index("--") + 1 :]
    assert "prlimit" in tail and "--as=1073741824" in tail and "--nproc=9" in tail and "--cpu=7" in tail
    assert ("setpriv" in tail) == (os.geteuid() == 0)
