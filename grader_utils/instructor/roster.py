"""The class roster: students into the gradebook from a CSV (``cnn-course roster FILE``)."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

__all__ = ["load_roster"]


def load_roster(roster: Path, db_url: str) -> list[str]:
    """Create or update the gradebook's students from a CSV with nbgrader's student columns
    (``id, first_name, last_name, email, lms_user_id``, as ``nbgrader db student import`` reads).
    Returns the ids."""
    from nbgrader.api import Gradebook

    with open(roster, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keys = ("first_name", "last_name", "email", "lms_user_id")
    # nbgrader runs `alembic` by name when it creates a gradebook: find the one next to this Python
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"
    try:
        with Gradebook(db_url) as gb:
            for row in rows:
                gb.update_or_create_student(row["id"], **{k: row[k] or None for k in keys if k in row})
    finally:
        os.environ["PATH"] = path
    return [row["id"] for row in rows]
