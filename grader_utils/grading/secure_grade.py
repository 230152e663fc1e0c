"""Run the trusted engine over a course's submissions and make its verdicts the grades.

nbgrader's autograde already grades this way (the course's ``SandboxedExecute`` preprocessor,
:mod:`graded_run`). ``cnn-course engine`` grades the submissions again with this module, e.g. after
an autograde run with another configuration, and stores the verdicts:

    cnn-course engine ASSIGNMENT [--student ID ...] [--root DIR]

For every submitted notebook it

* grades it with :mod:`engine` (student code in the sandbox, verdicts here);
* writes ``autograded/<student>/<assignment>/<notebook>.grading.json`` atomically
  (status and reason per test cell);
* sets the gradebook's auto score of every test cell the engine handled to the engine's
  score, whatever the student's kernel reported, and replaces that cell's outputs in the
  autograded notebook (the source of the feedback) with the engine's verdict.

Fail closed: every autograded test cell of the notebook gets its score from the engine's
record and from nothing else; a cell without a verdict scores 0. When the grading process
itself fails on a notebook (:class:`plan.GradingError`, Keras failing, anything unexpected),
every test of that notebook is recorded as ``failed`` with the reason and scores 0. A
submission the engine cannot read is recorded as ``invalid`` and scores 0; the others are
graded independently.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import nbformat

from ..i18n import tr, using_language
from .engine import grade_notebook
from .gradebook import store_scores
from .layout import CourseLayout
from .records import Status, TestResult, write_record
from .secret import course_secret
from .specs import is_test_cell, read_specs

__all__ = ["secure_grade", "put_verdicts", "store_scores", "failed_results"]


def put_verdicts(nb: Any, results: list[TestResult]) -> None:
    """Make the engine's verdicts the outputs of the notebook's test cells: ``PASSED ...`` (full
    points for nbgrader), ``PARTIAL ...`` with the score as the cell's result (part of the points:
    right values, wrong dtype) or an error with the reason (0 points). A test cell without a verdict
    gets an error too: nothing but a verdict gives points. Cells graded by hand (written or code answers,
    tasks) are left alone."""
    by_id = {r.grade_id: r for r in results}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not is_test_cell(cell):
            continue  # answers graded by hand keep the student's outputs: nbgrader scores them from the checksum
        result = by_id.get(meta.get("grade_id"))
        cell.execution_count = None
        if result is not None and 0 < result.score < result.max_score:
            # partial points (right values, wrong dtype): nbgrader reads a test cell's number result as
            # its score (nbgrader.utils.determine_grade); the message goes first, on stdout
            text = (
                tr(
                    "PARTIAL {test}: {score:g} of {points:g} points. {reason}",
                    test=result.grade_id,
                    score=result.score,
                    points=result.max_score,
                    reason=result.reason,
                )
                + "\n"
            )
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=text),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": repr(float(result.score))}, execution_count=None
                ),
            ]
        elif result is not None and result.score > 0:
            text = tr("PASSED {test} (checked by the course's grader)", test=result.grade_id) + "\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        else:
            reason = (
                f"{result.status}: {result.reason}" + (f" [{'; '.join(result.notes)}]" if result.notes else "")
                if result is not None
                else tr("failed: the course's grader gave no verdict for this test")
            )
            cell.outputs = [
                nbformat.v4.new_output(
                    "error", ename="AssertionError", evalue=reason, traceback=[f"AssertionError: {reason}"]
                )
            ]


def _rewrite_outputs(autograded_nb: Path, results: list[TestResult]) -> None:
    """Put the engine's verdicts into an autograded notebook on disk."""
    if not autograded_nb.exists():
        return
    nb = nbformat.read(autograded_nb, as_version=4)
    with using_language(CourseLayout.of_autograded(autograded_nb.parent).language):
        put_verdicts(nb, results)
    mode = autograded_nb.stat().st_mode
    os.chmod(autograded_nb, mode | stat.S_IWUSR)
    nbformat.write(nb, autograded_nb)
    os.chmod(autograded_nb, mode)


def grade_submitted(
    root: Path, assignment: str, student: str, source_nb: Path, refused: list[str] | None = None
) -> list[TestResult]:
    """The engine's results for one submitted notebook; never raises (fail closed: a failure of the
    grader is a ``failed`` result for every test, with the reason), in the course's language."""
    layout = CourseLayout(root)
    with using_language(layout.language):
        return _grade_submitted(root, assignment, student, source_nb, layout, refused)


def _grade_submitted(
    root: Path, assignment: str, student: str, source_nb: Path, layout: CourseLayout, refused: list[str] | None
) -> list[TestResult]:
    name = source_nb.stem
    submission = layout.submitted(student, assignment) / source_nb.name
    try:
        if refused:
            return results_for_all(
                source_nb,
                Status.INVALID,
                tr(
                    "the submission holds entries that are not plain files, so it was not graded: {entries}. "
                    "Submit the files themselves.",
                    entries=", ".join(refused[:5]),
                ),
            )
        if submission.is_symlink() or (submission.exists() and not submission.is_file()):
            return results_for_all(
                source_nb,
                Status.INVALID,
                tr("the notebook is not a regular file (a link or a device); it was not read"),
            )
        if not submission.exists():
            return results_for_all(source_nb, Status.INVALID, tr("the notebook is missing from the submission"))
        return grade_notebook(
            submission,
            source_nb,
            hide=[root],
            release_nb=layout.release_notebook(assignment, name),
            secret=course_secret(root),
            context=f"{assignment}/{name}",
            language=layout.language,
            student=student,
        )
    except Exception as exc:  # noqa: BLE001  (fail closed: the grader's failure is never a score)
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
        return failed_results(source_nb, tr("the grader failed on this notebook ({error})", error=error))


def results_for_all(source_nb: Path, status: Status, reason: str) -> list[TestResult]:
    """Every test of a notebook with ``status`` (a problem, never a verdict): 0 points and why."""
    return [TestResult(s.grade_id, status, 0.0, s.points, reason) for s in read_specs(source_nb)]


def failed_results(source_nb: Path, reason: str) -> list[TestResult]:
    """Every test of a notebook as ``failed``: 0 points and why."""
    return results_for_all(source_nb, Status.FAILED, reason)


def secure_grade(
    root: Path, assignment: str, students: list[str] | None = None, db_url: str | None = None
) -> dict[str, dict[str, list[TestResult]]]:
    """Grade every ``submitted/<student>/<assignment>/*.ipynb``; returns {student: {notebook: results}}."""
    layout = CourseLayout(root, db_url)
    root, db_url = layout.root, layout.db_url
    out: dict[str, dict[str, list[TestResult]]] = {}
    for source_nb in layout.source_notebooks(assignment):
        name = source_nb.stem
        for student in layout.students(assignment, students):
            from ..sandbox.kernel import refused_entries

            results = grade_submitted(
                root, assignment, student, source_nb, refused_entries(layout.submitted(student, assignment))
            )
            write_record(layout.record(student, assignment, name), student, assignment, name, results)
            _rewrite_outputs(layout.autograded(student, assignment) / source_nb.name, results)
            store_scores(db_url, assignment, student, name, results)
            out.setdefault(student, {})[name] = results
    return out
