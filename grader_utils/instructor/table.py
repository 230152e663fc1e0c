"""The per-student, per-exercise score table that ``cnn-course table`` and ``make demo`` print."""

from __future__ import annotations

from typing import Any

__all__ = ["score_table", "format_table"]


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
