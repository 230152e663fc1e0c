"""Course tooling for instructors: the demo class and the score table.

The demo class lives in ``demo/<assignment>/<student>.py``: for each solution
cell the student answered, a block that starts with ``# %% <grade_id>`` and
holds the whole new source of that cell. A student's submission is the release
notebook with those cells replaced; an answer file with no blocks is a student
who submitted the notebook untouched.

Run ``python -m grader_utils.course --help``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["read_answers", "build_submission", "build_demo_class", "load_roster", "score_table", "format_table",
           "main"]

BLOCK = re.compile(r"^# %% (\S+)[ \t]*$", re.M)


def read_answers(path: Path) -> dict[str, str]:
    """``{grade_id: cell source}`` from a demo answer file."""
    text = path.read_text()
    parts = BLOCK.split(text)
    return {grade_id: body.strip("\n") + "\n" for grade_id, body in zip(parts[1::2], parts[2::2])}


def build_submission(release_nb: Path, answers: dict[str, str], dest: Path) -> None:
    """Write ``release_nb`` with the answered solution cells replaced to ``dest``."""
    nb = nbformat.read(release_nb, as_version=4)
    solution_ids = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
    unknown = set(answers) - solution_ids
    if unknown:
        raise ValueError(f"{release_nb.name}: no solution cells {sorted(unknown)} (have {sorted(solution_ids)})")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id].rstrip("\n")
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def build_demo_class(root: Path) -> list[tuple[str, str]]:
    """Create ``submitted/<student>/<assignment>/`` for every demo answer file.

    Returns the (student, assignment) pairs written. Old demo submissions of
    the same students are replaced.
    """
    written = []
    for answer_file in sorted((root / "demo").glob("*/*.py")):
        assignment, student = answer_file.parent.name, answer_file.stem
        release_dir = root / "release" / assignment
        notebooks = sorted(release_dir.glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no release notebook in {release_dir}; run `make release` first")
        target = root / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        answers = read_answers(answer_file)
        for nb in notebooks:
            mine = {k: v for k, v in answers.items() if _has_solution_cell(nb, k)}
            build_submission(nb, mine, target / nb.name)
        (target / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")
        written.append((student, assignment))
    if (root / "demo" / "students.csv").exists():
        load_roster(root / "demo" / "students.csv", f"sqlite:///{root / 'gradebook.db'}")
    return written


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


def _has_solution_cell(nb_path: Path, grade_id: str) -> bool:
    nb = nbformat.read(nb_path, as_version=4)
    return any(c.metadata.get("nbgrader", {}).get("grade_id") == grade_id for c in nb.cells)


def score_table(db_url: str, assignment: str) -> dict[str, Any]:
    """Scores from the gradebook: ``{"tests": [grade_id...], "max": {...}, "students": {id: {grade_id: score}}}``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        tests = [c.name for nb in a.notebooks for c in nb.grade_cells if c.cell_type == "code"]
        max_scores = {c.name: c.max_score for nb in a.notebooks for c in nb.grade_cells if c.cell_type == "code"}
        students: dict[str, dict[str, float]] = {}
        for sub in a.submissions:
            row = {}
            for nb in a.notebooks:
                try:
                    snb = gb.find_submission_notebook(nb.name, assignment, sub.student_id)
                except MissingEntry:
                    continue
                for grade in snb.grades:
                    row[grade.name] = grade.score
            students[sub.student_id] = row
    return {"tests": tests, "max": max_scores, "students": students}


def _exercise(grade_id: str) -> str:
    return grade_id.split("__")[0]


def format_table(table: dict[str, Any]) -> str:
    """A per-student, per-exercise text table (points scored / points possible)."""
    exercises: list[str] = []
    for t in table["tests"]:
        if _exercise(t) not in exercises:
            exercises.append(_exercise(t))
    possible = {e: sum(table["max"][t] for t in table["tests"] if _exercise(t) == e) for e in exercises}
    total_possible = sum(possible.values())
    width = max([len("student")] + [len(s) for s in table["students"]])
    header = f"{'student':<{width}} | " + " | ".join(exercises) + " | total"
    lines = [header, "-" * len(header)]
    for student in sorted(table["students"]):
        row = table["students"][student]
        cells = []
        for e in exercises:
            got = sum(row.get(t, 0) or 0 for t in table["tests"] if _exercise(t) == e)
            cells.append(f"{got:g}/{possible[e]:g}".center(len(e)))
        total = sum(row.get(t, 0) or 0 for t in table["tests"])
        lines.append(f"{student:<{width}} | " + " | ".join(cells) + f" | {total:g}/{total_possible:g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader_utils.course", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo-submissions", help="write submitted/ from demo/ and release/")
    table = sub.add_parser("table", help="print the per-student, per-exercise score table")
    table.add_argument("assignment")
    table.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "demo-submissions":
        for student, assignment in build_demo_class(root):
            print(f"demo submission: {student} / {assignment}")
        return 0
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    result = score_table(db_url, args.assignment)
    print(json.dumps(result, indent=1, sort_keys=True) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
