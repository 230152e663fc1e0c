"""The per-student, per-exercise score table that ``cnn-course table`` and ``make demo`` print.

Every graded cell counts: the auto-graded test cells and the cells graded by hand (written answers, code
answers worth points, tasks). A score is nbgrader's (a grader's manual score once given, else the auto
score); a cell that still needs manual grading (nbgrader's ``needs_manual_grade``, no manual score yet)
counts 0 and is marked. A submission whose scores are not the outcome of a completed grading (a run interrupted
or in progress, an environment failure without an earlier grade: :func:`grading_state.not_graded`) says
"not graded" and why instead of a score; one whose previous grade was kept after an environment failure shows
that grade, marked :data:`KEPT_MARK`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["score_table", "format_table", "PENDING_MARK", "PENDING_NOTE", "KEPT_MARK", "KEPT_NOTE"]

#: the mark of a score that is not final: some of its cells need manual grading
PENDING_MARK = "*"
#: the table's legend for :data:`PENDING_MARK`
PENDING_NOTE = f"{PENDING_MARK} needs manual grading: an answer graded by hand has no score yet (counted as 0)"
#: the mark of a grade kept from an earlier grading because the last run failed for the environment's reasons
KEPT_MARK = "+"
#: the table's legend for :data:`KEPT_MARK`
KEPT_NOTE = f"{KEPT_MARK} the last run failed for the grading environment's reasons: the previous grade is kept"


def score_table(db_url: str, assignment: str) -> dict[str, Any]:
    """Scores from the gradebook::

    {"tests": [grade_id, ...],            # every graded cell, notebook by notebook
     "max": {grade_id: points},
     "manual": [grade_id, ...],           # the cells graded by hand (written, code answers, tasks)
     "students": {id: {grade_id: score}}, # students who submitted; nbgrader's score (0 when none yet)
     "pending": {id: [grade_id, ...]},    # cells that need manual grading, per student who has some
     "not_graded": {id: why},             # no completed grading: no score to show (grading_state.not_graded)
     "kept": {id: why}}                   # the previous grade kept after an environment failure
    """
    from nbgrader.api import Gradebook, MissingEntry

    from ..grading.gradebook import awaits_manual_grade, is_auto_graded_cell

    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        cells = [c for nb in a.notebooks for c in [*nb.grade_cells, *nb.task_cells]]
        tests = [c.name for c in cells]
        max_scores = {c.name: c.max_score for c in cells}
        manual = [c.name for c in cells if not is_auto_graded_cell(c)]
        students: dict[str, dict[str, float]] = {}
        pending: dict[str, list[str]] = {}
        for sub in a.submissions:
            row = {}
            for nb in a.notebooks:
                try:
                    snb = gb.find_submission_notebook(nb.name, assignment, sub.student_id)
                except MissingEntry:
                    continue
                for grade in snb.grades:
                    row[grade.name] = grade.score
                    if awaits_manual_grade(grade):
                        pending.setdefault(sub.student_id, []).append(grade.name)
            students[sub.student_id] = row
    from ..grading import grading_state

    every = grading_state.states(db_url, assignment)
    not_graded = {
        s: f"{grading_state.label(st)}: {st.reason}" if st.reason else grading_state.label(st)
        for s, st in every.items()
        if not st.counts and s in students
    }
    kept = {
        s: st.reason for s, st in every.items() if st.state == grading_state.ENVIRONMENT and st.counts and s in students
    }
    return {
        "tests": tests,
        "max": max_scores,
        "manual": manual,
        "students": students,
        "pending": pending,
        "not_graded": not_graded,
        "kept": kept,
    }


def _exercise(grade_id: str) -> str:
    return grade_id.split("__")[0]


def format_table(table: dict[str, Any]) -> str:
    """A per-student, per-exercise text table (points scored / points possible); a score with a cell that
    needs manual grading is marked :data:`PENDING_MARK`, and the legend follows the table."""
    exercises: list[str] = []
    for t in table["tests"]:
        if _exercise(t) not in exercises:
            exercises.append(_exercise(t))
    possible = {e: sum(table["max"][t] for t in table["tests"] if _exercise(t) == e) for e in exercises}
    total_possible = sum(possible.values())
    pending_all = table.get("pending", {})
    width = max([len("student")] + [len(s) for s in table["students"]])
    header = f"{'student':<{width}} | " + " | ".join(exercises) + " | total"
    lines = [header, "-" * len(header)]
    not_graded, kept = table.get("not_graded", {}), table.get("kept", {})
    for student in sorted(table["students"]):
        if student in not_graded:
            lines.append(f"{student:<{width}} | {not_graded[student]}")
            continue
        row = table["students"][student]
        pending = set(pending_all.get(student, []))
        cells = []
        for e in exercises:
            got = sum(row.get(t, 0) or 0 for t in table["tests"] if _exercise(t) == e)
            mark = PENDING_MARK if any(_exercise(t) == e for t in pending) else ""
            cells.append(f"{got:g}/{possible[e]:g}{mark}".center(len(e)))
        total = sum(row.get(t, 0) or 0 for t in table["tests"])
        mark = (PENDING_MARK if pending else "") + (KEPT_MARK if student in kept else "")
        lines.append(f"{student:<{width}} | " + " | ".join(cells) + f" | {total:g}/{total_possible:g}{mark}")
    if any(pending_all.get(s) for s in table["students"]):
        lines.append(PENDING_NOTE)
    if any(s in kept for s in table["students"]):
        lines.append(KEPT_NOTE)
    return "\n".join(lines)
