"""Test helper of tests/test_agent.py and tests/test_resolution.py: a student's process (a plain Python process,
not a kernel) whose namespace is the student's code, served by the real agent over the real channel."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader_utils.cells import channel, resolution

_RUN = """
import sys
from grader_utils.cells import agent
ns = {"__name__": "__main__"}
exec(compile(sys.argv[3], "<student cell>", "exec"), ns)
agent.serve(sys.argv[1], sys.argv[2], ns)
"""


@contextmanager
def student(code: str, folder: Path, seconds: float = 20) -> Iterator[resolution.Session]:
    """A session with an agent serving ``code``'s namespace in a process of its own."""
    server = channel.listen(folder)
    token = secrets.token_hex(8)
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(folder / channel.SOCKET_NAME), token, textwrap.dedent(code)],
        stderr=subprocess.PIPE,
    )
    try:
        conn = channel.accept(server, token, 30)
        session = resolution.Session(conn, seconds)
        yield session
        session.done()
        conn.close()
        proc.wait(10)
    finally:
        server.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
