"""The course secret: where hidden tests take their inputs from.

Hidden suites are generated from an HMAC of this secret (see :func:`plan.hidden_seed`), so
the seeds written in the instructor's test cells and the public :mod:`cases` generators are not
enough to know a hidden input. The secret lives in the course directory (``.grading-secret``,
mode 0600, never committed: see .gitignore), next to the gradebook, and no sandbox can see the
course directory. ``$CNN_COURSE_SECRET_FILE`` names another file (e.g. shared by the machines
of a Dask cluster). The same secret gives the same inputs: regrades are reproducible; a new
secret changes every hidden input.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["SECRET_NAME", "course_secret"]

SECRET_NAME = ".grading-secret"


def course_secret(root: Path) -> bytes:
    """The course's secret (32 random bytes), made on first use."""
    path = Path(os.environ.get("CNN_COURSE_SECRET_FILE") or Path(root) / SECRET_NAME)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        text = ""
    if not text:  # written whole under another name, then linked in: a reader sees all of it or nothing
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made the secret first: theirs counts
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        text = path.read_text().strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path} does not hold a hex secret") from None
    if len(secret) < 16:
        raise ValueError(f"{path} holds a secret of {len(secret)} bytes; at least 16 are needed")
    return secret
