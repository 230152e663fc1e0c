"""sandbox/seccomp.py: the assembler's jumps, and a real filter installed in a child process (the system-call
numbers and the mechanics the NumPy-only lock relies on)."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT
from grader_utils.sandbox import seccomp


def test_labels_become_relative_jumps():
    program = seccomp.assemble(
        [
            ("ld", seccomp.NR),
            ("jeq", 7, "deny", None),
            ("jge", 100, None, "allow"),
            ("jset", 0x1, "deny", "allow"),
            ("label", "allow"),
            ("ret", seccomp.RET_ALLOW),
            ("label", "deny"),
            ("ret", seccomp.RET_EPERM),
        ]
    )
    codes = [ins[0] for ins in program]
    assert len(program) == 6 and codes[0] == 0x20 and codes[-2:] == [0x06, 0x06]
    assert program[1] == (0x15, 3, 0, 7)  # from the instruction after it (index 2) to "deny" (index 5)
    assert program[2] == (0x35, 0, 1, 100)
    assert program[3] == (0x45, 1, 0, 1)
    assert program[4][3] == seccomp.RET_ALLOW and program[5][3] == seccomp.RET_EPERM


def test_args_are_the_low_words_of_seccomp_data():
    assert [seccomp.arg(i) for i in range(6)] == [16, 24, 32, 40, 48, 56]
    assert set(seccomp.SYSCALLS) == set(seccomp.AUDIT_ARCH)
    assert all(table.keys() == seccomp.SYSCALLS["x86_64"].keys() for table in seccomp.SYSCALLS.values())


@pytest.mark.skipif(platform.machine() not in seccomp.SYSCALLS, reason="seccomp.py knows x86_64 and aarch64")
def test_a_real_filter_refuses_exactly_the_call_it_names():
    """In a child process: personality() is refused with EPERM by number, getpid() still runs."""
    code = textwrap.dedent(f"""
        import ctypes, os, platform, sys
        sys.path.insert(0, {str(ROOT)!r})
        from grader_utils.sandbox import seccomp as s
        m = platform.machine()
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
        program = s.assemble([("ld", s.ARCH), ("jeq", s.AUDIT_ARCH[m], None, "kill"), ("ld", s.NR),
                              ("jeq", s.SYSCALLS[m]["personality"], "deny", None), ("ret", s.RET_ALLOW),
                              ("label", "deny"), ("ret", s.RET_EPERM), ("label", "kill"), ("ret", s.RET_KILL)])
        print("installed", s.install(libc, m, program))
        print("personality", libc.personality(0xFFFFFFFF), ctypes.get_errno())
        print("getpid", os.getpid() > 0)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:3] == ["installed 0", "personality -1 1", "getpid True"]


def test_without_the_filter_the_same_call_runs():
    """The test above can fail: unfiltered, personality(0xFFFFFFFF) (a query) succeeds."""
    code = "import ctypes; print(ctypes.CDLL(None, use_errno=True).personality(0xFFFFFFFF) >= 0)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "True"
