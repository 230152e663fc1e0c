"""The engine's scores in nbgrader's gradebook (SQLite or PostgreSQL, any URL SQLAlchemy takes).

Auto scores are only ever the engine's: they are set to 0 before a submission (or one notebook) is
graded, so a run that fails half-way leaves 0 and never the scores of an earlier run
(:func:`zero_auto_scores`), and then set from the records (:func:`store_scores`). Manual scores
(cells a grader scored by hand) are never touched.
"""

from __future__ import annotations

from typing import Any

from .records import TestResult

__all__ = ["zero_auto_scores", "store_scores", "submission_score"]


def zero_auto_scores(db_url: str, assignment: str, student: str, notebook: str | None = None) -> int:
    """Set every auto score of the submission (of one of its notebooks, if ``notebook`` is given) to 0,
    unset ones included; returns how many were not 0 already. Manual scores are not touched (nbgrader's
    score of a grade is its manual score when a grader set one). A submission the gradebook does not
    know: nothing to do."""
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
                if grade.auto_score not in (None, 0):
                    n += 1
                grade.auto_score = 0.0  # none left unset either: a grade the engine does not reach stays 0
        gb.db.commit()
    return n


def store_scores(db_url: str, assignment: str, student: str, notebook: str, results: list[TestResult]) -> int:
    """Make the gradebook's auto scores of the notebook the engine's: each autograded test cell gets
    its verdict's score, or 0 when there is none. Manually graded cells are not touched. Returns
    how many scores were set."""
    from nbgrader.api import Gradebook, MissingEntry

    by_id = {r.grade_id: r for r in results}
    changed = 0
    with Gradebook(db_url) as gb:
        try:
            submitted = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return 0
        for grade in submitted.grades:
            result = by_id.get(grade.name)
            if result is None and grade.auto_score is None:
                continue  # a manually graded answer: not the engine's
            grade.auto_score = float(result.score) if result is not None else 0.0
            grade.needs_manual_grade = False
            changed += 1
        gb.db.commit()
    return changed


def submission_score(db_url: str, assignment: str, student: str) -> tuple[float, float]:
    """(score, max score) of a submission as the gradebook has it now (0, 0 when it has none)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0.0, 0.0
        return float(sub.score), float(sub.max_score)
