"""Run the trusted engine over a course's submissions and make its verdicts the grades.

Run after ``nbgrader autograde`` (which creates the gradebook rows and the autograded
notebooks); :mod:`pipeline` (``cnn-course grade``) does both for each submission. By hand:

    python -m grader_utils.secure_grade ASSIGNMENT [--student ID ...] [--root DIR]

For every submitted notebook it

* grades it with :mod:`engine` (student code in the sandbox, verdicts here);
* writes ``autograded/<student>/<assignment>/<notebook>.grading.json`` atomically
  (status and reason per test cell);
* sets the gradebook's auto score of every test cell the engine handled to the engine's
  score, whatever the student's kernel reported, and replaces that cell's outputs in the
  autograded notebook (the source of the feedback) with the engine's verdict.

A submission the engine cannot read is recorded as ``invalid`` and scores 0; the others
are graded independently.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

import nbformat

from .engine import TestResult, grade_notebook, read_specs, write_record

__all__ = ["secure_grade", "main"]


def _rewrite_outputs(autograded_nb: Path, results: list[TestResult]) -> None:
    """Put the engine's verdicts into the autograded notebook's test cells."""
    if not autograded_nb.exists():
        return
    by_id = {r.grade_id: r for r in results if r.status != "kernel"}
    nb = nbformat.read(autograded_nb, as_version=4)
    for cell in nb.cells:
        result = by_id.get(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
        if result is None or cell.cell_type != "code":
            continue
        if result.score > 0:
            text = f"PASSED {result.grade_id} (checked by the course's grader)\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        else:
            reason = f"{result.status}: {result.reason}" + (f" [{'; '.join(result.notes)}]" if result.notes else "")
            cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=reason,
                                                   traceback=[f"AssertionError: {reason}"])]
    mode = autograded_nb.stat().st_mode
    os.chmod(autograded_nb, mode | stat.S_IWUSR)
    nbformat.write(nb, autograded_nb)
    os.chmod(autograded_nb, mode)


def _store_scores(db_url: str, assignment: str, student: str, notebook: str, results: list[TestResult]) -> int:
    """Set auto scores of engine-graded cells in the gradebook; returns how many were set."""
    from nbgrader.api import Gradebook, MissingEntry

    changed = 0
    with Gradebook(db_url) as gb:
        for r in results:
            if r.status == "kernel":
                continue
            try:
                grade = gb.find_grade(r.grade_id, notebook, assignment, student)
            except MissingEntry:
                continue
            grade.auto_score = r.score
            grade.needs_manual_grade = False
            changed += 1
        gb.db.commit()
    return changed


def secure_grade(root: Path, assignment: str, students: list[str] | None = None,
                 db_url: str | None = None) -> dict[str, dict[str, list[TestResult]]]:
    """Grade every ``submitted/<student>/<assignment>/*.ipynb``; returns {student: {notebook: results}}."""
    root = Path(root).resolve()
    db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    out: dict[str, dict[str, list[TestResult]]] = {}
    for source_nb in sorted((root / "source" / assignment).glob("*.ipynb")):
        name = source_nb.stem
        for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            submission = folder / source_nb.name
            if submission.exists():
                results = grade_notebook(submission, source_nb, hide=[root],
                                         release_nb=root / "release" / assignment / source_nb.name)
            else:
                results = [TestResult(s.grade_id, "invalid", 0.0, s.points, "the notebook is missing from the submission")
                           for s in read_specs(source_nb)]
            target = root / "autograded" / student / assignment
            write_record(target / f"{name}.grading.json", student, assignment, name, results)
            _rewrite_outputs(target / source_nb.name, results)
            _store_scores(db_url, assignment, student, name, results)
            out.setdefault(student, {})[name] = results
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader_utils.secure_grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: .)")
    args = parser.parse_args(argv)
    graded = secure_grade(args.root, args.assignment, args.student)
    for student, notebooks in sorted(graded.items()):
        for name, results in notebooks.items():
            engine_results = [r for r in results if r.status != "kernel"]
            problems = [f"{r.grade_id}: {r.status}" for r in engine_results if r.status not in ("ok", "wrong")]
            score = sum(r.score for r in engine_results)
            total = sum(r.max_score for r in engine_results)
            print(f"{student:>12} {name}: {score:g}/{total:g} verified by the sandboxed grader"
                  + (f" ({', '.join(problems)})" if problems else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
