"""The engine's scores in nbgrader's gradebook (SQLite or PostgreSQL, any URL SQLAlchemy takes).

Auto scores are only ever the engine's: they are set to 0 before a submission (or one notebook) is
graded, so a run that fails half-way leaves 0 and never the scores of an earlier run
(:func:`zero_auto_scores`), and then set from the records (:func:`store_scores`). Both touch only the
grades of *auto-graded test cells* (:func:`is_auto_graded`: a code grade cell that is not a solution, as
``nbgrader.utils.determine_grade`` decides). Cells graded by hand (written answers, code answers worth
points, tasks) keep exactly the state nbgrader's SaveAutoGrades gives them (auto score 0 for an unchanged
answer, else "needs manual grade"), and manual scores are never touched.
"""

from __future__ import annotations

from typing import Any

from .records import TestResult

__all__ = [
    "is_auto_graded_cell",
    "is_auto_graded",
    "awaits_manual_grade",
    "zero_auto_scores",
    "store_scores",
    "submission_score",
    "late_penalty",
]


def is_auto_graded_cell(cell: Any) -> bool:
    """Whether a graded cell of the gradebook (``nbgrader.api.GradeCell`` or ``TaskCell``) is an auto-graded
    test cell: a code grade cell that is not also a solution cell of its notebook (a task, a written answer
    or a code answer worth points is graded by hand)."""
    from nbgrader.api import GradeCell

    if not isinstance(cell, GradeCell) or cell.cell_type != "code":
        return False
    return cell.name not in {c.name for c in cell.notebook.solution_cells}


def is_auto_graded(grade: Any) -> bool:
    """Whether a gradebook grade (``nbgrader.api.Grade``) is an auto-graded test cell's
    (:func:`is_auto_graded_cell`)."""
    return is_auto_graded_cell(grade.cell)


def awaits_manual_grade(grade: Any) -> bool:
    """Whether a gradebook grade still has no score because it needs a grader (nbgrader's
    ``needs_manual_grade`` and no manual score yet): shown as "needs manual grading", counted as 0."""
    return bool(grade.needs_manual_grade) and grade.manual_score is None


def zero_auto_scores(db_url: str, assignment: str, student: str, notebook: str | None = None) -> int:
    """Set every auto-graded test cell's auto score of the submission (of one of its notebooks, if
    ``notebook`` is given) to 0, unset ones included; returns how many were not 0 already. Manual scores
    and the cells graded by hand are not touched (nbgrader's score of a grade is its manual score when a
    grader set one). A submission the gradebook does not know: nothing to do."""
    from nbgrader.api import Gradebook, MissingEntry

    n = 0
    with Gradebook(db_url) as gb:
        try:
            notebooks: list[Any] = (
                [gb.find_submission_notebook(notebook, assignment, student)]
                if notebook
                else list(gb.find_submission(assignment, student).notebooks)
            )
        except MissingEntry:
            return 0
        for submitted in notebooks:
            for grade in submitted.grades:
                if not is_auto_graded(grade):
                    continue  # graded by hand: nbgrader's state, the grader's score
                if grade.auto_score not in (None, 0):
                    n += 1
                grade.auto_score = 0.0  # none left unset either: a grade the engine does not reach stays 0
                grade.needs_manual_grade = grade.manual_score is not None  # nbgrader's rule for a scored cell
        gb.db.commit()
    return n


def store_scores(db_url: str, assignment: str, student: str, notebook: str, results: list[TestResult]) -> int:
    """Make the gradebook's auto scores of the notebook's auto-graded test cells the engine's: each gets
    its verdict's score, or 0 when there is none. Cells graded by hand are not touched. Returns how many
    scores were set."""
    from nbgrader.api import Gradebook, MissingEntry

    by_id = {r.grade_id: r for r in results}
    changed = 0
    with Gradebook(db_url) as gb:
        try:
            submitted = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return 0
        for grade in submitted.grades:
            if not is_auto_graded(grade):
                continue  # a written answer, a code answer worth points, a task: nbgrader's and the grader's
            result = by_id.get(grade.name)
            grade.auto_score = float(result.score) if result is not None else 0.0
            # nbgrader's rule (SaveAutoGrades): a scored cell needs a look only when a grader had overridden it
            grade.needs_manual_grade = grade.manual_score is not None
            changed += 1
        gb.db.commit()
    return changed


def late_penalty(db_url: str, assignment: str, student: str) -> float:
    """The late penalty nbgrader assigned to a submission (its notebooks' sum; 0 when it has none): nbgrader's
    ``AssignLatePenalties`` computes it at autograde from the submission's time (``timestamp.txt``, which the
    course's collect writes from the exchange's clock) and the course's ``LateSubmissionPlugin``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            return float(gb.find_submission(assignment, student).late_submission_penalty or 0.0)
        except MissingEntry:
            return 0.0


def submission_score(db_url: str, assignment: str, student: str) -> tuple[float, float]:
    """(score, max score) of a submission as the gradebook has it now (0, 0 when it has none)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0.0, 0.0
        return float(sub.score), float(sub.max_score)
