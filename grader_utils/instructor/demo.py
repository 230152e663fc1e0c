"""The bundled demo class (``cnn-course demo``).

The demo class lives in ``demo/<assignment>/<student>.py``: for each solution
cell the student answered, a block that starts with ``# %% <grade_id>`` and
holds the whole new source of that cell. A student's submission is the release
notebook with those cells replaced; an answer file with no blocks is a student
who submitted the notebook untouched.

``cnn-course demo`` writes ``submitted/`` from ``demo/`` and ``release/`` and loads ``demo/students.csv``
into the gradebook.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from ..grading.layout import CourseLayout
from .roster import load_roster

__all__ = ["read_answers", "build_submission", "build_demo_class"]

BLOCK = re.compile(r"^# %% (\S+)[ \t]*$", re.M)


def read_answers(path: Path) -> dict[str, str]:
    """``{grade_id: cell source}`` from a demo answer file."""
    text = path.read_text()
    parts = BLOCK.split(text)
    return {grade_id: body.strip("\n") + "\n" for grade_id, body in zip(parts[1::2], parts[2::2])}


def build_submission(release_nb: Path, answers: dict[str, str], dest: Path) -> None:
    """Write ``release_nb`` with the answered solution cells replaced to ``dest``."""
    nb = nbformat.read(release_nb, as_version=4)
    solution_ids = {
        c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    unknown = set(answers) - solution_ids
    if unknown:
        raise ValueError(f"{release_nb.name}: no solution cells {sorted(unknown)} (have {sorted(solution_ids)})")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id].rstrip("\n")
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def build_demo_class(root: Path, db_url: str | None = None) -> list[tuple[str, str]]:
    """Create ``submitted/<student>/<assignment>/`` for every demo answer file.

    Returns the (student, assignment) pairs written. Old demo submissions of
    the same students are replaced.
    """
    layout = CourseLayout(root, db_url)
    written = []
    for answer_file in sorted(layout.demo_dir.glob("*/*.py")):
        assignment, student = answer_file.parent.name, answer_file.stem
        notebooks = layout.release_notebooks(assignment)
        if not notebooks:
            raise FileNotFoundError(f"no release notebook in {layout.release(assignment)}; run `make release` first")
        target = layout.submitted(student, assignment)
        if target.exists():
            shutil.rmtree(target)
        answers = read_answers(answer_file)
        for nb in notebooks:
            mine = {k: v for k, v in answers.items() if _has_solution_cell(nb, k)}
            build_submission(nb, mine, target / nb.name)
        (target / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")
        written.append((student, assignment))
    if layout.demo_roster.exists():
        load_roster(layout.demo_roster, layout.db_url)
    return written


def _has_solution_cell(nb_path: Path, grade_id: str) -> bool:
    nb = nbformat.read(nb_path, as_version=4)
    return any(c.metadata.get("nbgrader", {}).get("grade_id") == grade_id for c in nb.cells)
