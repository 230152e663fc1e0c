"""The wire between the grading process and the agent in the student's kernel: length-prefixed frames on a Unix
socket (:mod:`codec` makes and reads the frames).

The grading process *listens* (:func:`listen`): it makes the socket in the kernel's probe folder (reached through a
descriptor of the folder, so a link the kernel put there is never followed), readable and writable by the
folder's owner alone (mode 0600: the sandbox's user, or the grader's when they are the same; made in a private
folder and renamed into the probe folder), and accepts one
connection per test cell (:func:`accept`), which must first say the token the grading process gave the kernel.
Every read has a deadline and a size cap checked from the length prefix, before the bytes are read.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["ChannelError", "ChannelTimeout", "SOCKET_NAME", "listen", "accept", "connect", "send", "receive"]

SOCKET_NAME = "agent.sock"
_LENGTH = struct.Struct("<Q")


class ChannelError(OSError):
    """The other side closed the connection, sent too much, or sent nonsense."""


class ChannelTimeout(ChannelError):
    """No complete frame before the deadline."""


def listen(folder: Path) -> socket.socket:
    """A listening socket ``folder/agent.sock``, mode 0600, owned by the folder's owner. It is made in a private
    folder of the grading process (only there is it chowned) and renamed into ``folder`` through a descriptor
    of it: an entry the kernel put there is replaced, never followed."""
    private = Path(tempfile.mkdtemp(prefix="agent-"))
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(str(private / SOCKET_NAME))
        finally:
            os.umask(old)
        owner = os.fstat(fd)
        if os.geteuid() == 0:
            os.chown(private / SOCKET_NAME, owner.st_uid, owner.st_gid, follow_symlinks=False)
        os.rename(private / SOCKET_NAME, SOCKET_NAME, dst_dir_fd=fd)
    finally:
        os.close(fd)
        shutil.rmtree(private, ignore_errors=True)
    server.listen(1)
    return server


def accept(server: socket.socket, token: str, seconds: float, stop: threading.Event | None = None) -> socket.socket:
    """The first connection within ``seconds`` that says ``token``; ChannelTimeout when none does (or as soon as
    ``stop`` is set: the kernel finished without connecting)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (stop is not None and stop.is_set()):
            raise ChannelTimeout("the kernel did not connect")
        server.settimeout(min(left, 0.2))
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        try:
            said = receive(conn, max(0.1, deadline - time.monotonic()), max_bytes=256)
        except ChannelError:
            conn.close()
            continue
        if said == token.encode():
            return conn
        conn.close()


def connect(path: str) -> socket.socket:
    """The agent's side: connect to the grading process's socket."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    return conn


def send(conn: socket.socket, data: bytes, seconds: float | None = None) -> None:
    """One frame: its length, then its bytes."""
    conn.settimeout(seconds)
    try:
        conn.sendall(_LENGTH.pack(len(data)) + data)
    except TimeoutError:
        raise ChannelTimeout("the other side stopped reading") from None
    except OSError as exc:
        raise ChannelError(f"the connection broke ({exc})") from None


def receive(conn: socket.socket, seconds: float | None, max_bytes: int) -> bytes:
    """One frame, within ``seconds`` (None: no deadline); a length over ``max_bytes`` is refused unread."""
    deadline = None if seconds is None else time.monotonic() + seconds
    (length,) = _LENGTH.unpack(_exactly(conn, _LENGTH.size, deadline))
    if length > max_bytes:
        raise ChannelError(f"a message of {length} bytes (at most {max_bytes})")
    return _exactly(conn, length, deadline)


def _exactly(conn: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout("no answer in time")
            conn.settimeout(left)
        else:
            conn.settimeout(None)
        try:
            chunk = conn.recv(min(n - got, 1 << 20))
        except TimeoutError:
            raise ChannelTimeout("no answer in time") from None
        except OSError as exc:
            raise ChannelError(f"the connection broke ({exc})") from None
        if not chunk:
            raise ChannelError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
