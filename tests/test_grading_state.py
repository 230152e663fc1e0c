"""grading_state: a run's start snapshots the last completed grade; an environment failure restores it; a run
that never finished reads as "not graded" (real nbgrader gradebooks: tests/small_gradebook.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import copy_small_gradebook
from grader_utils.grading import grading_state
from grader_utils.instructor.table import KEPT_MARK, format_table, score_table


def _auto(db_url: str, assignment: str, student: str) -> dict[str, float | None]:
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        return {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}


def _overwrite(db_url: str, assignment: str, student: str, value: float | None) -> None:
    """What a run that has started does to the gradebook (graded_run zeroes, nbgrader writes its scores)."""
    with Gradebook(db_url) as gb:
        for nb in gb.find_submission(assignment, student).notebooks:
            for g in nb.grades:
                g.auto_score = value
        gb.db.commit()


def test_an_environment_failure_restores_the_previous_grade(small_gradebook_file: Path, tmp_path: Path):
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    before = _auto(db_url, "a1_shapes", "ann")
    assert sum(v or 0 for v in before.values()) == 6
    state = grading_state.begin(db_url, "a1_shapes", "ann")
    assert state.state == grading_state.GRADING and not state.kept
    assert state.previous == {"shapes": before}
    _overwrite(db_url, "a1_shapes", "ann", 0.0)
    assert "ann" in grading_state.not_graded(db_url, "a1_shapes")  # a run in progress is no grade
    kept = grading_state.keep_previous(db_url, "a1_shapes", "ann", "a sandboxed kernel cannot start")
    assert kept.state == grading_state.ENVIRONMENT and kept.counts
    assert _auto(db_url, "a1_shapes", "ann") == before
    assert "ann" not in grading_state.not_graded(db_url, "a1_shapes")
    table = score_table(db_url, "a1_shapes")
    assert table["kept"] == {"ann": "a sandboxed kernel cannot start"}
    assert f"6/6{KEPT_MARK}" in format_table(table)


def test_an_interrupted_run_is_not_graded_and_the_next_run_keeps_the_earlier_snapshot(
    small_gradebook_file: Path, tmp_path: Path
):
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    before = _auto(db_url, "a1_shapes", "cy")
    grading_state.begin(db_url, "a1_shapes", "cy")
    _overwrite(db_url, "a1_shapes", "cy", 0.0)  # ... and the grading process is killed here
    table = score_table(db_url, "a1_shapes")
    assert table["not_graded"]["cy"].startswith("not graded (run interrupted")
    text = format_table(table)
    cy_line = next(line for line in text.splitlines() if line.startswith("cy "))
    assert "not graded" in cy_line and "/6" not in cy_line  # never 0/6
    again = grading_state.begin(db_url, "a1_shapes", "cy")  # the re-run: the zeros are not a grade to keep
    assert again.kept and again.previous == {"shapes": before}
    grading_state.keep_previous(db_url, "a1_shapes", "cy", "disk full")
    assert _auto(db_url, "a1_shapes", "cy") == before


def test_a_completed_run_replaces_the_grade_and_a_never_graded_one_stays_not_graded(
    small_gradebook_file: Path, tmp_path: Path
):
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    grading_state.begin(db_url, "a1_shapes", "bob")
    _overwrite(db_url, "a1_shapes", "bob", 0.5)
    grading_state.finish(db_url, "a1_shapes", "bob", grading_state.GRADED)
    assert set(_auto(db_url, "a1_shapes", "bob").values()) == {0.5}
    assert grading_state.states(db_url, "a1_shapes")["bob"].state == grading_state.GRADED
    assert "bob" not in score_table(db_url, "a1_shapes")["not_graded"]
    # never graded: no snapshot; an environment failure leaves 0 and "not graded (environment)", never a grade
    _overwrite(db_url, "a2_models", "ann", None)
    state = grading_state.begin(db_url, "a2_models", "ann")
    assert state.previous is None
    _overwrite(db_url, "a2_models", "ann", 2.0)  # what the failed run wrote
    grading_state.keep_previous(db_url, "a2_models", "ann", "TensorFlow cannot be imported")
    assert set(_auto(db_url, "a2_models", "ann").values()) == {0.0}
    table = score_table(db_url, "a2_models")
    assert table["not_graded"]["ann"] == "not graded (environment): TensorFlow cannot be imported"
    with pytest.raises(ValueError):
        grading_state.finish(db_url, "a2_models", "ann", grading_state.ENVIRONMENT)


def _exported(db_url: str, fmt: str, path: Path) -> str:
    from grader_utils.instructor.exporters import export

    return export(db_url, fmt, path, ["a1_shapes"]).read_text(encoding="utf-8")


def test_exports_say_not_graded_and_leave_the_lms_cell_empty(small_gradebook_file: Path, tmp_path: Path):
    import csv

    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    grading_state.begin(db_url, "a1_shapes", "ann")  # ... and the run is killed
    rows = list(csv.DictReader(_exported(db_url, "csv", tmp_path / "x.csv").splitlines()))
    ann = next(r for r in rows if r["student_id"] == "ann")
    assert ann["total"].startswith("not graded (run interrupted") and ann["conv_shape"].startswith("not graded")
    bob = next(r for r in rows if r["student_id"] == "bob")
    assert float(bob["total"]) > 0  # the others as before
    canvas = list(csv.reader(_exported(db_url, "canvas", tmp_path / "c.csv").splitlines()))
    ann_row = next(r for r in canvas if r[3] == "ann")
    assert ann_row[-1] == ""  # Canvas keeps the score it holds
    moodle = list(csv.reader(_exported(db_url, "moodle", tmp_path / "m.csv").splitlines()))
    assert next(r for r in moodle if r[0] == "ann@example.org")[-1] == ""
    grading_state.finish(db_url, "a1_shapes", "ann")
    canvas = list(csv.reader(_exported(db_url, "canvas", tmp_path / "c.csv").splitlines()))
    assert next(r for r in canvas if r[3] == "ann")[-1] == "6"
