"""cells/channel.py: the socket is 0600 in the probe folder, an entry there is replaced (never followed), a
wrong token is refused, every read has a deadline and a size cap."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from grader_utils.cells import channel


def test_the_socket_is_private_and_replaces_a_planted_link(tmp_path: Path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / channel.SOCKET_NAME).symlink_to(victim)
    server = channel.listen(folder)
    try:
        st = (folder / channel.SOCKET_NAME).lstat()
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        assert victim.read_text() == "keep"
    finally:
        server.close()


def _client(path: str, token: bytes, then: list[bytes]) -> threading.Thread:
    def run() -> None:
        conn = channel.connect(path)
        channel.send(conn, token)
        for frame in then:
            channel.send(conn, frame)
        conn.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_wrong_token_is_refused_and_the_right_one_accepted(tmp_path: Path):
    server = channel.listen(tmp_path)
    path = str(tmp_path / channel.SOCKET_NAME)
    bad = _client(path, b"wrong", [])
    good = _client(path, b"secret", [b"hello"])
    try:
        conn = channel.accept(server, "secret", 5)
        assert channel.receive(conn, 5, 100) == b"hello"
        with pytest.raises(channel.ChannelError):
            channel.receive(conn, 5, 100)  # closed
    finally:
        bad.join()
        good.join()
        server.close()


def test_accept_times_out_when_nobody_connects(tmp_path: Path):
    server = channel.listen(tmp_path)
    with pytest.raises(channel.ChannelTimeout):
        channel.accept(server, "x", 0.2)
    server.close()


def test_a_frame_over_the_cap_is_refused_unread_and_a_silent_peer_times_out(tmp_path: Path):
    server = channel.listen(tmp_path)
    path = str(tmp_path / channel.SOCKET_NAME)
    big = _client(path, b"t", [b"x" * 1000])
    conn = channel.accept(server, "t", 5)
    with pytest.raises(channel.ChannelError, match="at most 100"):
        channel.receive(conn, 5, 100)
    big.join()
    a, b = __import__("socket").socketpair()
    with pytest.raises(channel.ChannelTimeout):
        channel.receive(a, 0.2, 100)
    a.close(), b.close()
    server.close()
    assert not os.path.exists(tmp_path / "private")
