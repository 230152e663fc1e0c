"""A seccomp-BPF filter installed from Python with ``ctypes`` (no libseccomp needed).

What the filter refuses is the NumPy-only lock's policy (:mod:`.native_lock`); this module holds the
mechanics: the offsets of ``struct seccomp_data`` (``int nr; __u32 arch; __u64 instruction_pointer;
__u64 args[6]``), the system-call numbers of x86_64 and aarch64, :func:`assemble` (a small assembly
with labels -> classic BPF instructions ``(code, jt, jf, k)``) and :func:`install` (the ``seccomp``
system call, in filter mode, synchronised over every thread).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ARCH",
    "AUDIT_ARCH",
    "NR",
    "RET_ALLOW",
    "RET_EPERM",
    "RET_KILL",
    "SYSCALLS",
    "X32_BIT",
    "arg",
    "assemble",
    "install",
]

#: offsets in struct seccomp_data of the system call's number and of its ABI (``AUDIT_ARCH``)
NR, ARCH = 0, 4


def arg(i: int) -> int:
    """Offset of the low 32 bits of ``args[i]`` in struct seccomp_data (little-endian: x86_64 and aarch64)."""
    return 16 + 8 * i


#: the ``arch`` value of each machine's native 64-bit ABI
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYSCALLS = {
    "x86_64": {
        "mmap": 9,
        "mprotect": 10,
        "pkey_mprotect": 329,
        "execve": 59,
        "execveat": 322,
        "shmat": 30,
        "personality": 135,
        "ptrace": 101,
        "process_vm_writev": 311,
        "prctl": 157,
        "bpf": 321,
    },
    "aarch64": {
        "mmap": 222,
        "mprotect": 226,
        "pkey_mprotect": 288,
        "execve": 221,
        "execveat": 281,
        "shmat": 196,
        "personality": 92,
        "ptrace": 117,
        "process_vm_writev": 271,
        "prctl": 167,
        "bpf": 280,
    },
}
X32_BIT = 0x40000000
RET_ALLOW, RET_EPERM, RET_KILL = 0x7FFF0000, 0x00050000 | 1, 0x80000000  # ERRNO|EPERM, KILL_PROCESS
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


def assemble(asm: Sequence[tuple[Any, ...]]) -> list[tuple[int, int, int, int]]:
    """BPF instructions ``(code, jt, jf, k)`` from ``asm``: ``("ld", offset)``, ``("ret", value)``,
    ``("jeq" | "jge" | "jset", k, true_label | None, false_label | None)`` (None: fall through) and
    ``("label", name)``, which marks the next instruction."""
    labels, index = {}, 0
    for op in asm:
        if op[0] == "label":
            labels[op[1]] = index
        else:
            index += 1
    out: list[tuple[int, int, int, int]] = []
    for op in asm:
        if op[0] == "label":
            continue
        here = len(out) + 1  # jumps are relative to the next instruction
        if op[0] == "ld":
            out.append((_LD_ABS_W, 0, 0, op[1]))
        elif op[0] == "ret":
            out.append((_RET, 0, 0, op[1]))
        else:
            code = {"jeq": _JEQ, "jge": _JGE, "jset": _JSET}[op[0]]
            jt = labels[op[2]] - here if op[2] else 0
            jf = labels[op[3]] - here if op[3] else 0
            assert 0 <= jt < 256 and 0 <= jf < 256
            out.append((code, jt, jf, op[1]))
    return out


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def install(libc: Any, machine: str, program: Sequence[tuple[int, int, int, int]]) -> int:
    """Install ``program`` as this process's seccomp filter, on every thread (TSYNC), through
    ``libc.syscall``; returns the system call's result (0 on success, else read ``ctypes.get_errno()``).
    The caller sets ``PR_SET_NO_NEW_PRIVS`` first, as the kernel requires."""
    filters = (_SockFilter * len(program))(*[_SockFilter(*ins) for ins in program])
    prog = _SockFprog(len(program), filters)
    libc.syscall.restype = ctypes.c_long
    result: int = libc.syscall(
        ctypes.c_long(_SYS_SECCOMP[machine]),
        ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(prog),
    )
    return result
