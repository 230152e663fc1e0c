"""grading/gradebook.py: the engine's scores in a real nbgrader gradebook (tests/small_gradebook.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import copy_small_gradebook
from grader_utils.grading.gradebook import late_penalty, store_scores, submission_score, zero_auto_scores
from grader_utils.grading.records import Status
from grader_utils.grading.records import TestResult as Result
from small_gradebook import AUTO, LAYOUT, MANUAL, truth

ASSIGNMENT, NOTEBOOK, CELLS = LAYOUT[0]


@pytest.fixture
def db_url(small_gradebook_file: Path, tmp_path: Path) -> str:
    return copy_small_gradebook(small_gradebook_file, tmp_path)


def _auto(db_url: str, student: str) -> dict:
    with Gradebook(db_url) as gb:
        return {g.name: g.auto_score for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).grades}


def test_zero_auto_scores_zeroes_every_auto_score_and_keeps_manual_ones(db_url):
    ann_before = sum(AUTO[("ann", c)] for c, _ in CELLS)
    assert zero_auto_scores(db_url, ASSIGNMENT, "ann") == 3 and ann_before > 0
    assert _auto(db_url, "ann") == {c: 0.0 for c, _ in CELLS}
    assert submission_score(db_url, ASSIGNMENT, "ann")[0] == 0.0
    zero_auto_scores(db_url, ASSIGNMENT, "bob")
    assert submission_score(db_url, ASSIGNMENT, "bob")[0] == sum(MANUAL.values())
    assert zero_auto_scores(db_url, ASSIGNMENT, "nobody") == 0


def test_store_scores_gives_each_cell_its_verdicts_score_and_0_without_one(db_url):
    results = [Result(CELLS[0][0], Status.OK, 1.0, 1.0), Result(CELLS[1][0], Status.DTYPE, 1.5, 2.0)]
    assert store_scores(db_url, ASSIGNMENT, "cy", NOTEBOOK, results) == 3
    assert _auto(db_url, "cy") == {CELLS[0][0]: 1.0, CELLS[1][0]: 1.5, CELLS[2][0]: 0.0}
    assert submission_score(db_url, ASSIGNMENT, "cy") == (2.5, float(sum(p for _, p in CELLS)))
    assert store_scores(db_url, ASSIGNMENT, "cy", "no such notebook", results) == 0


def test_submission_score_is_nbgraders(db_url):
    found = truth(db_url)
    for student in ("ann", "bob", "cy"):
        assert submission_score(db_url, ASSIGNMENT, student) == (
            found["total"][ASSIGNMENT, student],
            found["max"][ASSIGNMENT],
        )
    assert submission_score(db_url, ASSIGNMENT, "nobody") == (0.0, 0.0)


def test_late_penalty_is_nbgraders(db_url):
    with Gradebook(db_url) as gb:
        expected = {
            (a.name, s.id): gb.find_submission(a.name, s.id).late_submission_penalty
            for a in gb.assignments
            for s in gb.students
            if (a.name, s.id) != ("a2_models", "cy")
        }
    assert expected["a2_models", "bob"] == 1.0  # the small gradebook's late submission
    for (assignment, student), penalty in expected.items():
        assert late_penalty(db_url, assignment, student) == penalty
    assert late_penalty(db_url, "a2_models", "cy") == 0.0  # no submission


# --- cells graded by hand keep nbgrader's state (issue #22, item 4) ----------------------------------------


@pytest.fixture
def hand_db(hand_gradebook_file: Path, tmp_path: Path) -> str:
    return copy_small_gradebook(hand_gradebook_file, tmp_path)


def test_zeroing_and_storing_touch_only_the_auto_graded_test_cells(hand_db):
    from small_gradebook import HAND, HAND_STATE, hand_state

    assignment, notebook = HAND
    for student in ("ann", "bob", "cy"):
        before = hand_state(hand_db, student)
        zero_auto_scores(hand_db, assignment, student)
        store_scores(hand_db, assignment, student, notebook, [Result("explain_mean", Status.OK, 2.0, 2.0)])
        after = hand_state(hand_db, student)
        for name in ("explain_mean", "plot_mean", "design_task"):
            assert after[name] == before[name] == HAND_STATE[student, name], (student, name)
        # the test cell: no verdict -> 0; a grader's override of it is kept and flagged for a look, as nbgrader does
        manual = HAND_STATE[student, "mean__basic"][1]
        assert after["mean__basic"] == (0.0, manual, manual is not None), student


def test_is_auto_graded_follows_nbgrader(hand_db):
    from grader_utils.grading.gradebook import is_auto_graded
    from small_gradebook import HAND, HAND_CELLS

    assignment, notebook = HAND
    with Gradebook(hand_db) as gb:
        grades = gb.find_submission_notebook(notebook, assignment, "ann").grades
        assert {g.name for g in grades if is_auto_graded(g)} == {n for n, _p, k in HAND_CELLS if k == "test"}
