"""A small real nbgrader gradebook for the export and report tests (built with nbgrader's API)."""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from grader_utils.instructor.exporters import exercise_of

#: (assignment, notebook, [(grade cell, points)]) of the small gradebook
LAYOUT = [
    ("a1_shapes", "shapes", [("conv_shape__basic", 1), ("conv_shape__random", 2), ("pool_shape__basic", 3)]),
    ("a2_models", "models", [("build_model__layers", 2), ("build_model__training", 3)]),
]
#: (id, first, last, email, lms_user_id)
STUDENTS = [
    ("ann", "Ann", "Lee", "ann@example.org", "101"),
    ("bob", "Bob", "Smith, Jr.", "bob@example.org", "102"),  # a comma in a name: CSV quoting
    ("cy", "Cy", "Young", "cy@example.org", ""),  # no LMS id, and no submission of a2_models
]
#: auto scores (student, grade cell) -> score; cells not listed score 0
AUTO = {
    ("ann", "conv_shape__basic"): 1,
    ("ann", "conv_shape__random"): 2,
    ("ann", "pool_shape__basic"): 3,
    ("ann", "build_model__layers"): 2,
    ("ann", "build_model__training"): 1.5,
    ("bob", "conv_shape__basic"): 1,
    ("bob", "pool_shape__basic"): 0,
    ("cy", "conv_shape__random"): 2,
    ("cy", "pool_shape__basic"): 3,
}
#: a grader's manual score replaces bob's auto score of 0
MANUAL = {("bob", "pool_shape__basic"): 2.5}


def build_gradebook(db_url: str) -> str:
    """The small gradebook: 2 assignments, 3 students (one without a submission), a manual score, a late penalty."""
    with Gradebook(db_url) as gb:
        for i, (a, nb, cells) in enumerate(LAYOUT):
            gb.add_assignment(a, duedate=f"2026-11-{10 + i} 12:00:00")
            gb.add_notebook(nb, a)
            for ex in dict.fromkeys(exercise_of(name) for name, _ in cells):
                gb.add_solution_cell(ex, nb, a)
            for name, points in cells:
                gb.add_grade_cell(name, nb, a, max_score=points, cell_type="code")
        for sid, first, last, email, lms in STUDENTS:
            gb.add_student(sid, first_name=first, last_name=last, email=email, lms_user_id=lms or None)
        for a, nb, cells in LAYOUT:
            for sid, *_ in STUDENTS:
                if sid == "cy" and a == "a2_models":
                    continue
                gb.add_submission(a, sid, timestamp="2026-11-09 10:00:00")
                for name, _points in cells:
                    grade = gb.find_grade(name, nb, a, sid)
                    grade.auto_score = AUTO.get((sid, name), 0.0)
                    grade.manual_score = MANUAL.get((sid, name))
                    grade.needs_manual_grade = False
        gb.find_submission_notebook("models", "a2_models", "bob").late_submission_penalty = 1.0
        gb.db.commit()
    return db_url


def truth(db_url: str) -> dict:
    """What the gradebook says, through nbgrader's API: scores per grade cell and submission totals."""
    out: dict = {"grade": {}, "total": {}, "max": {}, "order": [], "assignments": [], "cells": {}}
    with Gradebook(db_url) as gb:
        out["order"] = [s.id for s in gb.students]
        out["assignments"] = [a.name for a in gb.assignments]
        for a in gb.assignments:
            out["max"][a.name] = a.max_score
            out["cells"][a.name] = [c.name for nb in a.notebooks for c in nb.grade_cells]
            for s in gb.students:
                try:
                    sub = gb.find_submission(a.name, s.id)
                except MissingEntry:
                    out["total"][a.name, s.id] = 0.0
                    continue
                out["total"][a.name, s.id] = max(0.0, sub.score - sub.late_submission_penalty)
                for snb in sub.notebooks:
                    for g in snb.grades:
                        out["grade"][s.id, g.name] = g.score
    return out


def write_source(root: Path) -> Path:
    """A course in ``root`` whose instructor's notebooks match the small gradebook: one notebook per
    assignment of :data:`LAYOUT`, one graded test cell per grade cell (same id and points). Returns ``root``."""
    import nbformat

    for assignment, notebook, cells in LAYOUT:
        nb = nbformat.v4.new_notebook()
        for name, points in cells:
            cell = nbformat.v4.new_code_cell(f"check_{exercise_of(name)}({exercise_of(name)})")
            cell.metadata["nbgrader"] = {
                "grade": True,
                "solution": False,
                "locked": True,
                "grade_id": name,
                "points": points,
                "schema_version": 3,
            }
            nb.cells.append(cell)
        path = root / "source" / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    return root
