"""Grade exports (grader_utils.exporters) against real nbgrader gradebooks.

The quick tests build a small gradebook with nbgrader's own API in a temporary directory; the
slow one exports the demo class after real autograding. Expected values are read back from the
gradebook with nbgrader's API (``Grade.score``, ``SubmittedAssignment.score``), never retyped.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_small_gradebook
from grader_utils.instructor.exporters import FORMATS, exercise_of, export
from small_gradebook import AUTO, MANUAL, STUDENTS, truth

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def db_url(small_gradebook_file: Path, tmp_path: Path) -> str:
    return copy_small_gradebook(small_gradebook_file, tmp_path)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def num(text: str) -> float:
    return float(text)


def canvas_layout_errors(rows: list[list[str]]) -> list[str]:
    """What Canvas' GradebookImporter would reject or misread (its header and row rules)."""
    errors = []
    header = rows[0]
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        errors.append("first columns must be Student, ID")
    if header[2:4] != ["SIS User ID", "SIS Login ID"]:
        errors.append("SIS User ID, SIS Login ID must follow ID")
    if "Section" not in header[4]:
        errors.append("Section must be the last student column")
    if "Points Possible" not in rows[1][0]:
        errors.append("second row must be Points Possible")
    if any(len(r) != len(header) for r in rows):
        errors.append("ragged rows")
    return errors


# --- per-exercise CSV ---------------------------------------------------------------


def test_exercise_csv_layout_and_values(db_url: str, tmp_path: Path) -> None:
    path = export(db_url, "csv", tmp_path / "out.csv")
    rows = read_csv(path)
    t = truth(db_url)
    exercises = list(dict.fromkeys(exercise_of(c) for a in t["assignments"] for c in t["cells"][a]))
    assert exercises == ["conv_shape", "pool_shape", "build_model"]  # notebook order, grouped
    assert rows[0] == [
        "assignment",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "lms_user_id",
        "timestamp",
        *exercises,
        "late_penalty",
        "total",
        "max",
    ]
    # one row per student x assignment, assignments in due-date order, students in the gradebook's order
    assert [(r[0], r[1]) for r in rows[1:]] == [(a, s) for a in t["assignments"] for s in t["order"]]
    col = {name: i for i, name in enumerate(rows[0])}
    for r in rows[1:]:
        a, s = r[0], r[1]
        cells = t["cells"][a]
        for e in exercises:
            mine = [c for c in cells if exercise_of(c) == e]
            if not mine:
                assert r[col[e]] == "", (a, s, e)  # not an exercise of this assignment
            else:
                assert num(r[col[e]]) == pytest.approx(sum(t["grade"].get((s, c), 0.0) for c in mine)), (a, s, e)
        assert num(r[col["total"]]) == pytest.approx(t["total"][a, s])
        assert num(r[col["max"]]) == t["max"][a]
    student = {s[0]: s for s in STUDENTS}
    for r in rows[1:]:
        assert r[2:6] == [student[r[1]][2], student[r[1]][1], student[r[1]][3], student[r[1]][4]]


def test_manual_score_wins_and_late_penalty_counts(db_url: str, tmp_path: Path) -> None:
    rows = read_csv(export(db_url, "csv", tmp_path / "out.csv"))
    col = {name: i for i, name in enumerate(rows[0])}
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    bob = by_key["a1_shapes", "bob"]
    # bob's pool_shape__basic: auto 0, manual 2.5 -> nbgrader's score is the manual one
    assert num(bob[col["pool_shape"]]) == MANUAL["bob", "pool_shape__basic"]
    assert num(bob[col["total"]]) == AUTO["bob", "conv_shape__basic"] + MANUAL["bob", "pool_shape__basic"]
    late = by_key["a2_models", "bob"]
    assert num(late[col["late_penalty"]]) == 1.0
    assert num(late[col["total"]]) == 0.0  # raw 0 - penalty 1, clipped at 0 as nbgrader export does
    missing = by_key["a2_models", "cy"]
    assert missing[col["timestamp"]] == "" and num(missing[col["total"]]) == 0.0


def test_filters_select_assignments(db_url: str, tmp_path: Path) -> None:
    rows = read_csv(export(db_url, "csv", tmp_path / "out.csv", assignments=["a2_models"]))
    assert {r[0] for r in rows[1:]} == {"a2_models"}
    assert "conv_shape" not in rows[0] and "build_model" in rows[0]
    with pytest.raises(ValueError, match="no assignment"):
        export(db_url, "csv", tmp_path / "x.csv", assignments=["nope"])
    with pytest.raises(ValueError, match="unknown format"):
        export(db_url, "xlsx", tmp_path / "x.csv")


# --- Canvas ---------------------------------------------------------------------------


def test_canvas_layout_and_values(db_url: str, tmp_path: Path) -> None:
    rows = read_csv(export(db_url, "canvas", tmp_path / "canvas.csv", assignment_ids={"a1_shapes": 5501}))
    t = truth(db_url)
    assert canvas_layout_errors(rows) == []
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1_shapes (5501)", "a2_models"]
    assert rows[1][:5] == ["Points Possible", "", "", "", ""]
    assert [num(x) for x in rows[1][5:]] == [t["max"][a] for a in t["assignments"]]
    assert [r[3] for r in rows[2:]] == t["order"]  # SIS Login ID: the nbgrader student id
    student = {s[0]: s for s in STUDENTS}
    for r in rows[2:]:
        sid = r[3]
        assert r[0] == f"{student[sid][2]}, {student[sid][1]}"  # Canvas' sortable name "Last, First"
        assert r[1] == student[sid][4]  # Canvas user id = lms_user_id ("" when unknown)
        assert r[2] == "" and r[4] == ""
        assert [num(x) for x in r[5:]] == [pytest.approx(t["total"][a, sid]) for a in t["assignments"]]


@pytest.mark.nbgrader
def test_canvas_checker_rejects_wrong_layouts(db_url: str, tmp_path: Path) -> None:
    """The layout check is not vacuous: the layouts Canvas would refuse fail it."""
    rows = read_csv(export(db_url, "canvas", tmp_path / "canvas.csv"))
    no_section = [r[:4] + r[5:] for r in rows]
    swapped = [[r[1], r[0], *r[2:]] for r in rows]
    no_points_row = [rows[0], *rows[2:]]
    nbgrader_layout = read_csv(_nbgrader_csv(db_url, tmp_path))
    for bad in (no_section, swapped, no_points_row, nbgrader_layout):
        assert canvas_layout_errors(bad)


def _nbgrader_csv(db_url: str, tmp_path: Path) -> Path:
    """nbgrader's own CSV export (a layout Canvas cannot import)."""
    dest = tmp_path / "nbgrader.csv"
    _run_nbgrader_export(db_url, tmp_path, f"--to={dest}")
    return dest


def _run_nbgrader_export(db_url: str, cwd: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [str(VENV_BIN / "nbgrader"), "export", f"--db={db_url}", "--log-level=ERROR", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.nbgrader
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_nbgrader_runs_each_exporter(db_url: str, tmp_path: Path, fmt: str) -> None:
    """``nbgrader export --exporter=grader_utils.exporters.X`` writes the same file as export()."""
    cls = FORMATS[fmt]
    by_nbgrader = tmp_path / f"nbgrader_{fmt}.csv"
    _run_nbgrader_export(
        db_url,
        tmp_path,
        f"--exporter=grader_utils.exporters.{cls.__name__}",
        f"--to={by_nbgrader}",
        "--assignment=a1_shapes",
    )
    ours = export(db_url, fmt, tmp_path / f"ours_{fmt}.csv", assignments=["a1_shapes"])
    assert read_csv(by_nbgrader) == read_csv(ours)
    assert "a2_models" not in by_nbgrader.read_text()


# --- Moodle ---------------------------------------------------------------------------


def test_moodle_layout_and_values(db_url: str, tmp_path: Path) -> None:
    rows = read_csv(export(db_url, "moodle", tmp_path / "moodle.csv"))
    t = truth(db_url)
    assert rows[0] == ["Email address", "Username", "First name", "Last name", "LMS user ID", *t["assignments"]]
    assert [r[1] for r in rows[1:]] == t["order"]
    student = {s[0]: s for s in STUDENTS}
    for r in rows[1:]:
        sid = r[1]
        assert r[0] == student[sid][3] and r[2:5] == [student[sid][1], student[sid][2], student[sid][4]]
        assert [num(x) for x in r[5:]] == [pytest.approx(t["total"][a, sid]) for a in t["assignments"]]


def test_moodle_identifier_first_and_required(db_url: str, tmp_path: Path) -> None:
    rows = read_csv(export(db_url, "moodle", tmp_path / "m.csv", identifier="username"))
    assert rows[0][:2] == ["Username", "Email address"] and rows[0].count("Username") == 1
    # cy has no LMS id: Moodle would put an empty-identifier row on the previous user, so refuse
    with pytest.raises(ValueError, match=r"no lms_user_id for students \['cy'\]"):
        export(db_url, "moodle", tmp_path / "m2.csv", identifier="lms_user_id")


# --- the demo class after real autograding --------------------------------------------------


@pytest.mark.slow
def test_demo_class_exports(graded_course: Path, tmp_path: Path) -> None:
    """The demo class's gradebook: names and LMS ids from demo/students.csv, totals as nbgrader's."""
    db = f"sqlite:///{graded_course / 'gradebook.db'}"
    with open(graded_course / "demo" / "students.csv", newline="") as f:
        roster = {r["id"]: r for r in csv.DictReader(f)}
    t = truth(db)
    rows = read_csv(export(db, "canvas", tmp_path / "canvas.csv"))
    assert canvas_layout_errors(rows) == []
    for r in rows[2:]:
        sid = r[3]
        if sid in roster:
            assert r[0] == f"{roster[sid]['last_name']}, {roster[sid]['first_name']}"
            assert r[1] == roster[sid]["lms_user_id"]
        assert [num(x) for x in r[5:]] == [pytest.approx(t["total"][a, sid]) for a in t["assignments"]]
    plain = read_csv(export(db, "csv", tmp_path / "plain.csv"))
    col = {name: i for i, name in enumerate(plain[0])}
    alice = next(r for r in plain[1:] if r[:2] == ["01_convolution", "alice"])
    assert num(alice[col["total"]]) == num(alice[col["max"]]) == t["max"]["01_convolution"]
    assert set(roster) <= {r[1] for r in plain[1:]}


# --- answers graded by hand -----------------------------------------------------------------------------


def test_answers_graded_by_hand_count_once_scored_and_say_so_until_then(
    hand_gradebook_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The per-exercise CSV shows "needs manual grading" where a score is not given yet; every total counts a
    given manual score, 0 before; each export warns about the answers still waiting."""
    from nbgrader.api import Gradebook

    from grader_utils.instructor.exporters import NEEDS_MANUAL_GRADING, needs_manual_grading
    from small_gradebook import HAND, HAND_CELLS, HAND_PENDING

    db = copy_small_gradebook(hand_gradebook_file, tmp_path)
    t = truth(db)
    rows = read_csv(export(db, "csv", tmp_path / "hand.csv"))
    col = {name: i for i, name in enumerate(rows[0])}
    by_student = {r[1]: r for r in rows[1:]}
    for student, pending in HAND_PENDING.items():
        r = by_student[student]
        for exercise in ("mean", "explain_mean", "plot_mean", "design_task"):
            if exercise in pending:
                assert r[col[exercise]] == NEEDS_MANUAL_GRADING, (student, exercise)
            else:
                cells = [c for c, _p, _k in HAND_CELLS if exercise_of(c) == exercise]
                assert num(r[col[exercise]]) == sum(t["grade"][student, c] for c in cells), (student, exercise)
        assert num(r[col["total"]]) == pytest.approx(t["total"][HAND[0], student])
    assert num(by_student["ann"][col["total"]]) == 2 + 1.5 + 0 + 3  # her manual scores count
    with Gradebook(db) as gb:
        assert needs_manual_grading(gb) == {HAND[0]: {s: c for s, c in HAND_PENDING.items() if c}}
    with caplog.at_level("WARNING"):
        canvas = read_csv(export(db, "canvas", tmp_path / "canvas.csv"))
    assert [num(x) for x in canvas[2][5:]] == [pytest.approx(t["total"][HAND[0], canvas[2][3]])]
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "need manual grading" in warning and "bob (explain_mean, plot_mean, design_task)" in warning
    assert "ann" not in warning
