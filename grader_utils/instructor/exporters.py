"""Grade exports from the nbgrader gradebook: per exercise, for Canvas, for Moodle.

Each format is an nbgrader export plugin, so nbgrader can run it::

    nbgrader export --exporter=grader_utils.exporters.ExerciseCsvExporter --to=grades_by_exercise.csv
    nbgrader export --exporter=grader_utils.exporters.CanvasExporter --to=canvas.csv --assignment=01_convolution
    nbgrader export --exporter=grader_utils.exporters.MoodleExporter --to=moodle.csv
    nbgrader export --exporter=grader_utils.exporters.GradesCsvExporter --to=grades.csv

(the last one is nbgrader's own CSV layout, and what ``nbgrader export`` uses with no ``--exporter`` in a
course configured by :func:`grader_utils.nbgrader_setup`), and :func:`export` does the same from Python
(``export(db_url, "canvas", Path("canvas.csv"))``).
Scores are nbgrader's own: a grade is its manual score when a grader set one, else its auto
score (plus extra credit), exactly :attr:`nbgrader.api.Grade.score` (an answer graded by hand counts
once its grader gave a score, 0 before: :func:`needs_manual_grading` lists those, and every export
logs a warning naming them); an assignment's total is
``max(0, raw score - late penalty)``, as ``nbgrader export`` computes it. A student without a
submission scores 0 (also as ``nbgrader export`` does). Students come in the gradebook's order
(last name, first name); assignments in due-date, then name order.

Formats (all UTF-8, comma-separated, one header row). Every cell is inert in a spreadsheet
(:mod:`.spreadsheet`): a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(a roster value such as a name or e-mail) gets a leading ``'``; numbers stay numbers; cells holding a
separator are quoted (docs/security.md, "Exports are inert").

``grades`` (:class:`GradesCsvExporter`) -- nbgrader's own ``CsvExportPlugin`` columns, one row per student x
assignment::

    assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
    late_submission_penalty, score, max_score

  written as CSV should be (nbgrader's plugin joins the values with commas unquoted: a comma in a name
  shifts the columns) and inert.

``csv`` (:class:`ExerciseCsvExporter`) -- one row per student x assignment::

    assignment, student_id, last_name, first_name, email, lms_user_id, timestamp,
    <exercise 1>, ..., <exercise n>, late_penalty, total, max

  An exercise is the function a solution cell defines: its test cells are named
  ``<exercise>__<what>`` and its score is the sum of theirs (a grade cell without ``__`` is its
  own exercise, e.g. a written answer or a task graded by hand). An exercise with a cell that still
  needs manual grading (no score given yet) reads ``needs manual grading`` instead of a number; the
  total counts such a cell as 0 until a grader scores it. Exercise columns are those of every
  exported assignment, assignment by assignment, in the order nbgrader stored the cells (the
  notebook's order); a cell is empty when the exercise is not part of that row's assignment.
  A submission that is not graded (a grading run interrupted or in progress, or an environment failure
  without an earlier grade: :mod:`grader_utils.grading.grading_state`) reads ``not graded (...)`` in its
  exercise cells and its total. ``timestamp`` is empty when the student submitted nothing (or nbgrader
  recorded no submission time).

``canvas`` (:class:`CanvasExporter`) -- Canvas' Gradebook import layout, one row per student::

    Student, ID, SIS User ID, SIS Login ID, Section, <assignment 1>, ..., <assignment n>
    Points Possible, , , , , <max 1>, ..., <max n>
    "Last, First", <lms_user_id>, , <student_id>, , <total 1>, ..., <total n>

  ``ID`` is Canvas' numeric user id: put it in nbgrader's ``lms_user_id`` (``nbgrader db student
  add --lms-user-id`` or a roster such as ``demo/students.csv``). Canvas finds the student by
  ``ID``, then by ``SIS User ID``/``SIS Login ID``, then by name. Configure
  ``CanvasExporter.assignment_ids = {"01_convolution": 1234}`` to write the column as
  ``01_convolution (1234)`` so Canvas updates that existing assignment; a column without an id
  is matched by title, or creates a new assignment worth the ``Points Possible`` value.
  Import: Grades > Import > choose the file, review the changes, Upload. A submission that is not graded
  (see ``csv``) has an empty cell: Canvas keeps the score it holds.

``moodle`` (:class:`MoodleExporter`) -- for Moodle's "Import grades from CSV", one row per student::

    <identifier column>, Username, Email address, First name, Last name, LMS user ID,
    <assignment 1>, ..., <assignment n>

  The identifier column (``MoodleExporter.identifier``: ``email`` (default), ``username`` or
  ``lms_user_id``) comes first and is not repeated. Every row must carry it: the export stops
  with an error naming the students without one, because Moodle reuses the previous row's user
  when the identifier cell is empty. Import: Grades > Import > CSV file, upload; under
  "Identify user by" map from that column to ``useremail`` / ``username`` / ``userid``
  (``userid`` is Moodle's numeric user id, i.e. ``lms_user_id`` here), map each assignment
  column to its grade item (or "new grade item"), ignore the other columns. Moodle refuses
  values above 100 unless the site allows unlimited grades; create the grade items with the
  maximum points shown by ``nbgrader export`` first. A submission that is not graded has an empty cell
  (Moodle: no grade imported).

What was checked against the LMS (2026-11-28, from their source code and documentation):
Canvas' importer (``GradebookImporter`` in canvas-lms) requires a header whose first column
contains "Student" and second "ID", takes "SIS User ID"/"SIS Login ID" after them, requires
"Section" as the last student column, reads assignment columns as ``Title (id)``, treats a row
whose first cell contains "Points Possible" as points possible, and an empty cell as "no
score". Moodle's ``gradeimport_csv_load_data`` maps users by ``id``, ``idnumber``, ``email``
or ``username`` and treats ``''``/``'-'`` as no grade; MoodleDocs "Grade import" describes
the Map from/Map to step. Neither import was run against a live LMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

from ..grading.gradebook import awaits_manual_grade
from .spreadsheet import write_csv

__all__ = [
    "NEEDS_MANUAL_GRADING",
    "exercise_of",
    "needs_manual_grading",
    "StudentRow",
    "assignment_exercises",
    "assignment_rows",
    "ExerciseCsvExporter",
    "GradesCsvExporter",
    "CanvasExporter",
    "MoodleExporter",
    "FORMATS",
    "export",
]


#: what the per-exercise export shows for an exercise whose score is not given yet
NEEDS_MANUAL_GRADING = "needs manual grading"


def exercise_of(grade_id: str) -> str:
    """The exercise a grade cell belongs to: ``max_pool2d__random`` -> ``max_pool2d``."""
    return grade_id.split("__")[0]


def _num(x: float) -> str:
    """A score as Canvas and Moodle read it: ``2``, ``1.5``, ``0.3333``."""
    return f"{float(x):.4f}".rstrip("0").rstrip(".")


def _score(row: StudentRow) -> str:
    """An assignment's cell in Canvas' and Moodle's imports: the total, or empty when the submission has no grade
    (not graded: both LMS read an empty cell as "no score" and leave the grade they hold unchanged)."""
    return "" if row.not_graded else _num(row.total)


@dataclass
class StudentRow:
    """One student's result for one assignment, as every format needs it."""

    assignment: str
    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    timestamp: str  # "" when nothing was submitted or nbgrader recorded no time
    exercises: dict[str, float] = field(default_factory=dict)
    raw: float = 0.0
    late_penalty: float = 0.0
    max_score: float = 0.0
    submitted: bool = False
    pending: list[str] = field(default_factory=list)  # grade cells that need manual grading (no score yet)
    #: why the submission has no grade (grading_state.label: a run interrupted, the environment), else ""
    not_graded: str = ""

    @property
    def total(self) -> float:
        """``max(0, raw - late penalty)``, as ``nbgrader export`` computes the score."""
        return max(0.0, self.raw - self.late_penalty)


def assignment_exercises(gb: Gradebook, assignment: str) -> dict[str, float]:
    """``{exercise: points possible}`` of an assignment, in notebook order."""
    out: dict[str, float] = {}
    for nb in gb.find_assignment(assignment).notebooks:
        for cell in nb.grade_cells + nb.task_cells:
            ex = exercise_of(cell.name)
            out[ex] = out.get(ex, 0.0) + float(cell.max_score)
    return out


def assignment_rows(gb: Gradebook, assignment: str, students: Iterable[str] | None = None) -> list[StudentRow]:
    """A :class:`StudentRow` for every student of the gradebook (or of ``students``)."""
    from ..grading import grading_state

    a = gb.find_assignment(assignment)
    exercises = assignment_exercises(gb, assignment)
    wanted = set(students) if students else None
    states = grading_state.states_in(gb.db, assignment)
    rows = []
    for st in gb.students:
        if wanted is not None and st.id not in wanted:
            continue
        row = StudentRow(
            assignment,
            st.id,
            st.first_name or "",
            st.last_name or "",
            st.email or "",
            st.lms_user_id or "",
            "",
            dict.fromkeys(exercises, 0.0),
            max_score=float(a.max_score or 0.0),
        )
        try:
            sub = gb.find_submission(assignment, st.id)
        except MissingEntry:
            rows.append(row)
            continue
        row.submitted = True
        state = states.get(st.id)
        if state is not None and not state.counts:
            row.not_graded = grading_state.label(state)
        row.timestamp = str(sub.timestamp) if sub.timestamp is not None else ""
        row.raw = float(sub.score or 0.0)
        row.late_penalty = float(sub.late_submission_penalty or 0.0)
        for snb in sub.notebooks:
            for grade in snb.grades:  # grade.score: manual score if set, else auto score (+ extra credit)
                ex = exercise_of(grade.name)
                row.exercises[ex] = row.exercises.get(ex, 0.0) + float(grade.score or 0.0)
                if awaits_manual_grade(grade):
                    row.pending.append(grade.name)
        rows.append(row)
    return rows


def needs_manual_grading(gb: Gradebook, assignments: Iterable[str] | None = None) -> dict[str, dict[str, list[str]]]:
    """``{assignment: {student: [grade cell, ...]}}``: the answers graded by hand that have no score yet
    (counted as 0 in every export until a grader scores them in the formgrader)."""
    names = list(assignments) if assignments else [a.name for a in gb.assignments]
    out: dict[str, dict[str, list[str]]] = {}
    for a in names:
        pending = {r.student_id: r.pending for r in assignment_rows(gb, a) if r.pending}
        if pending:
            out[a] = pending
    return out


class _Exporter(ExportPlugin):
    """Shared parts: destination, the ``assignment``/``student`` filters, CSV writing."""

    default_name = "grades.csv"

    def _assignments(self, gb: Gradebook) -> list[str]:
        wanted = [str(x) for x in self.assignment]
        names = [a.name for a in gb.assignments]  # due date, then name
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            raise ValueError(f"no assignment {unknown} in the gradebook (have {names})")
        return [n for n in names if not wanted or n in wanted]

    def _rows(self, gb: Gradebook) -> dict[str, list[StudentRow]]:
        students = [str(x) for x in self.student] or None
        return {a: assignment_rows(gb, a, students) for a in self._assignments(gb)}

    def table(self, gb: Gradebook) -> list[list[str]]:
        """The file's rows (header first)."""
        raise NotImplementedError

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or self.default_name)
        rows = self.table(gradebook)
        for assignment, students in needs_manual_grading(gradebook, self._assignments(gradebook)).items():
            self.log.warning(
                "%s: answers of %d student(s) need manual grading and count 0 until graded: %s",
                assignment,
                len(students),
                "; ".join(f"{s} ({', '.join(cells)})" for s, cells in sorted(students.items())),
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_csv(dest, rows)  # every cell inert in a spreadsheet
        self.log.info("Exported %d rows to %s", len(rows) - 1, dest)


class ExerciseCsvExporter(_Exporter):
    """One row per student x assignment, one column per exercise, then late penalty, total, max."""

    default_name = "grades_by_exercise.csv"
    ID_COLUMNS = ["assignment", "student_id", "last_name", "first_name", "email", "lms_user_id", "timestamp"]

    def table(self, gb: Gradebook) -> list[list[str]]:
        by_assignment = self._rows(gb)
        exercises: list[str] = []
        for a in by_assignment:
            exercises += [e for e in assignment_exercises(gb, a) if e not in exercises]
        out = [self.ID_COLUMNS + exercises + ["late_penalty", "total", "max"]]
        for rows in by_assignment.values():
            for r in rows:
                waiting = {exercise_of(g) for g in r.pending}
                cells = [
                    (r.not_graded or (NEEDS_MANUAL_GRADING if e in waiting else _num(r.exercises[e])))
                    if e in r.exercises
                    else ""
                    for e in exercises
                ]
                out.append(
                    [r.assignment, r.student_id, r.last_name, r.first_name, r.email, r.lms_user_id, r.timestamp]
                    + cells
                    + [_num(r.late_penalty), r.not_graded or _num(r.total), _num(r.max_score)]
                )
        return out


class GradesCsvExporter(_Exporter):
    """nbgrader's own CSV columns (``nbgrader.plugins.CsvExportPlugin``), quoted and inert."""

    default_name = "grades.csv"
    COLUMNS = [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
    ]

    def table(self, gb: Gradebook) -> list[list[str]]:
        out = [list(self.COLUMNS)]
        for a, rows in self._rows(gb).items():
            due = gb.find_assignment(a).duedate
            for r in rows:
                out.append(
                    [a, str(due) if due is not None else "", r.timestamp, r.student_id, r.last_name, r.first_name]
                    + [r.email, _num(r.raw), _num(r.late_penalty), _num(r.total), _num(r.max_score)]
                )
        return out


class CanvasExporter(_Exporter):
    """Canvas' Gradebook import CSV: one row per student, one column per assignment."""

    default_name = "grades_canvas.csv"
    STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assignment_ids = Dict(
        help="{nbgrader assignment: Canvas assignment id}: the column becomes "
        "'name (id)' so Canvas updates that assignment"
    ).tag(config=True)
    section = Unicode("", help="value of the Section column (Canvas does not use it to match)").tag(config=True)

    def column(self, assignment: str) -> str:
        """The header of an assignment's column."""
        canvas_id = self.assignment_ids.get(assignment)
        return f"{assignment} ({canvas_id})" if canvas_id not in (None, "") else assignment

    def table(self, gb: Gradebook) -> list[list[str]]:
        by_assignment = self._rows(gb)
        names = list(by_assignment)
        header = self.STUDENT_COLUMNS + [self.column(a) for a in names]
        maxes = {
            a: (rows[0].max_score if rows else float(gb.find_assignment(a).max_score or 0))
            for a, rows in by_assignment.items()
        }
        out = [header, ["Points Possible", "", "", "", ""] + [_num(maxes[a]) for a in names]]
        per_student: dict[str, dict[str, StudentRow]] = {}
        for a, rows in by_assignment.items():
            for r in rows:
                per_student.setdefault(r.student_id, {})[a] = r
        for student_id, rows_by_a in per_student.items():
            first = next(iter(rows_by_a.values()))
            name = ", ".join(p for p in (first.last_name, first.first_name) if p) or student_id
            out.append([name, first.lms_user_id, "", student_id, self.section] + [_score(rows_by_a[a]) for a in names])
        return out


class MoodleExporter(_Exporter):
    """Moodle's "Import grades from CSV": one row per student, one column per assignment."""

    default_name = "grades_moodle.csv"
    COLUMNS = {
        "username": "Username",
        "email": "Email address",
        "first_name": "First name",
        "last_name": "Last name",
        "lms_user_id": "LMS user ID",
    }
    identifier = Enum(
        ["email", "username", "lms_user_id"],
        default_value="email",
        help="the column Moodle maps users by; it comes first and must be set for every student",
    ).tag(config=True)

    def _value(self, r: StudentRow, key: str) -> str:
        return {
            "username": r.student_id,
            "email": r.email,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "lms_user_id": r.lms_user_id,
        }[key]

    def table(self, gb: Gradebook) -> list[list[str]]:
        by_assignment = self._rows(gb)
        names = list(by_assignment)
        keys = [self.identifier] + [k for k in self.COLUMNS if k != self.identifier]
        out = [[self.COLUMNS[k] for k in keys] + names]
        per_student: dict[str, dict[str, StudentRow]] = {}
        for a, rows in by_assignment.items():
            for r in rows:
                per_student.setdefault(r.student_id, {})[a] = r
        missing = [
            s
            for s, rows_by_a in per_student.items()
            if not self._value(next(iter(rows_by_a.values())), self.identifier)
        ]
        if missing:
            raise ValueError(
                f"no {self.identifier} for students {missing}: Moodle would give their grades "
                f"to another user; set them (e.g. nbgrader db student add) or choose "
                f"another MoodleExporter.identifier"
            )
        for rows_by_a in per_student.values():
            first = next(iter(rows_by_a.values()))
            out.append([self._value(first, k) for k in keys] + [_score(rows_by_a[a]) for a in names])
        return out


#: format name -> exporter class (the ``fmt`` of :func:`export`)
FORMATS: dict[str, type[_Exporter]] = {
    "csv": ExerciseCsvExporter,
    "grades": GradesCsvExporter,
    "canvas": CanvasExporter,
    "moodle": MoodleExporter,
}


def export(db_url: str, fmt: str, path: Path, assignments: list[str] | None = None, **options: Any) -> Path:
    """Write the grades of ``db_url``'s gradebook in format ``fmt`` (csv, grades, canvas, moodle) to ``path``.

    assignments: only these (default: all); options: the exporter's traits, e.g.
    ``assignment_ids={"01_convolution": 1234}`` for Canvas or ``identifier="username"`` for Moodle.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {sorted(FORMATS)}")
    plugin = FORMATS[fmt](to=str(path), assignment=list(assignments or []), **options)
    with Gradebook(db_url) as gb:
        plugin.export(gb)
    return Path(path)
