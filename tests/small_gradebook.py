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


# --- a gradebook with cells graded by hand (written answers, code answers worth points, tasks) ---------------

#: (assignment, notebook) of the hand-graded gradebook
HAND = ("a3_essay", "essay")
#: its graded cells: (grade_id, points, kind); kind "test" is an auto-graded test cell, "written" a Markdown
#: answer (grade + solution), "code" a code answer worth points (grade + solution), "task" a task cell
HAND_CELLS = [
    ("mean__basic", 2, "test"),
    ("explain_mean", 2, "written"),
    ("plot_mean", 1, "code"),
    ("design_task", 3, "task"),
]
#: the state of each grade as nbgrader leaves it: (student, grade_id) -> (auto score, manual score, needs manual grade)
#: ann: all graded (her code answer unchanged: nbgrader's auto 0, "No response"); bob: nothing graded by hand yet;
#: cy: the code answer graded, the written answer and the task not yet, and a grader's override of a test score
HAND_STATE = {
    ("ann", "mean__basic"): (2.0, None, False),
    ("ann", "explain_mean"): (None, 1.5, False),
    ("ann", "plot_mean"): (0.0, None, False),
    ("ann", "design_task"): (None, 3.0, False),
    ("bob", "mean__basic"): (0.0, None, False),
    ("bob", "explain_mean"): (None, None, True),
    ("bob", "plot_mean"): (None, None, True),
    ("bob", "design_task"): (None, None, True),
    ("cy", "mean__basic"): (0.0, 1.0, False),
    ("cy", "explain_mean"): (None, None, True),
    ("cy", "plot_mean"): (None, 1.0, False),
    ("cy", "design_task"): (None, None, True),
}
#: cells graded by hand that have no score yet, per student (what "needs manual grading" must show)
HAND_PENDING = {
    s: [g for (t, g), (_a, manual, needs) in HAND_STATE.items() if t == s and needs and manual is None]
    for s in ("ann", "bob", "cy")
}


def build_hand_gradebook(db_url: str) -> str:
    """One assignment whose notebook has a test cell, a written answer, a code answer worth points and a
    task, in the states of :data:`HAND_STATE` (set with nbgrader's API as SaveAutoGrades and the formgrader
    leave them)."""
    assignment, notebook = HAND
    with Gradebook(db_url) as gb:
        gb.add_assignment(assignment, duedate="2026-11-20 12:00:00")
        gb.add_notebook(notebook, assignment)
        gb.add_solution_cell("mean", notebook, assignment)  # the function the test checks
        for name, points, kind in HAND_CELLS:
            if kind == "task":
                gb.add_task_cell(name, notebook, assignment, max_score=points, cell_type="markdown")
                continue
            if kind in ("written", "code"):
                gb.add_solution_cell(name, notebook, assignment)
            cell_type = "markdown" if kind == "written" else "code"
            gb.add_grade_cell(name, notebook, assignment, max_score=points, cell_type=cell_type)
        for sid, first, last, email, lms in STUDENTS:
            gb.add_student(sid, first_name=first, last_name=last, email=email, lms_user_id=lms or None)
            gb.add_submission(assignment, sid, timestamp="2026-11-19 10:00:00")
            for name, *_ in HAND_CELLS:
                grade = gb.find_grade(name, notebook, assignment, sid)
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = HAND_STATE[sid, name]
        gb.db.commit()
    return db_url


def hand_state(db_url: str, student: str) -> dict[str, tuple]:
    """{grade_id: (auto score, manual score, needs manual grade)} of a student's submission of :data:`HAND`."""
    assignment, notebook = HAND
    with Gradebook(db_url) as gb:
        return {
            g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
            for g in gb.find_submission_notebook(notebook, assignment, student).grades
        }


def write_hand_source(root: Path) -> Path:
    """The instructor's notebook of :data:`HAND` in ``root/source/``: the cells of :data:`HAND_CELLS` with
    nbgrader's metadata (a solution cell defining ``mean`` first). Returns ``root``."""
    import nbformat

    assignment, notebook = HAND
    nb = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell(
        "def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION"
    )
    solution.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "mean",
        "schema_version": 3,
    }
    nb.cells.append(solution)
    for name, points, kind in HAND_CELLS:
        if kind == "test":
            cell = nbformat.v4.new_code_cell("assert mean([1, 2, 3]) == 2")
            meta = {"grade": True, "solution": False, "locked": True}
        elif kind == "code":
            cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nprint(mean([1, 2]))\n### END SOLUTION")
            meta = {"grade": True, "solution": True, "locked": False}
        elif kind == "written":
            cell = nbformat.v4.new_markdown_cell(
                "=== BEGIN MARK SCHEME ===\nThe sum over the count.\n=== END MARK SCHEME ==="
            )
            meta = {"grade": True, "solution": True, "locked": False}
        else:
            cell = nbformat.v4.new_markdown_cell("Design a test for `mean` with an empty list.")
            meta = {"grade": False, "solution": False, "locked": True, "task": True}
        cell.metadata["nbgrader"] = {**meta, "grade_id": name, "points": points, "schema_version": 3}
        nb.cells.append(cell)
    path = root / "source" / assignment / f"{notebook}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return root
