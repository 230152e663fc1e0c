"""instructor/table.py: the score table of ``make demo`` / ``cnn-course table``, read from a real gradebook."""

from __future__ import annotations

from pathlib import Path

from conftest import copy_small_gradebook
from grader_utils.instructor.table import format_table, score_table
from small_gradebook import AUTO, LAYOUT, MANUAL, STUDENTS, truth


def test_format_table_sums_per_exercise():
    table = {
        "tests": ["f__a", "f__b", "g__a"],
        "max": {"f__a": 1, "f__b": 2, "g__a": 3},
        "students": {"s1": {"f__a": 1.0, "f__b": 0.0, "g__a": 3.0}, "s2": {}},
    }
    lines = format_table(table).splitlines()
    assert lines[0].split(" | ") == ["student", "f", "g", "total"]
    s1 = [c.strip() for c in lines[2].split("|")]
    assert s1 == ["s1", "1/3", "3/3", "4/6"]
    assert [c.strip() for c in lines[3].split("|")] == ["s2", "0/3", "0/3", "0/6"]


def test_score_table_reads_the_gradebooks_scores(small_gradebook_file: Path, tmp_path: Path):
    """Per student who submitted, per code test cell: the gradebook's score (a grader's manual score wins)."""
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    found = truth(db_url)
    for assignment, _, cells in LAYOUT:
        table = score_table(db_url, assignment)
        assert table["tests"] == [name for name, _ in cells]
        assert table["max"] == {name: float(points) for name, points in cells}
        submitted = [s for s, *_ in STUDENTS if not (s == "cy" and assignment == "a2_models")]
        assert sorted(table["students"]) == sorted(submitted)
        for student in submitted:
            assert table["students"][student] == {name: found["grade"][student, name] for name, _ in cells}
    students = score_table(db_url, "a1_shapes")["students"]
    assert students["bob"]["pool_shape__basic"] == MANUAL[("bob", "pool_shape__basic")]  # a grader's score wins
    assert students["ann"]["conv_shape__random"] == AUTO[("ann", "conv_shape__random")]


def test_cells_graded_by_hand_count_once_scored_and_are_marked_until_then(hand_gradebook_file: Path, tmp_path: Path):
    """Every graded cell is in the table (a written answer, a code answer, a task); a score counts once a grader
    gave it, and a submission with an answer that has no score yet is marked "needs manual grading"."""
    from grader_utils.instructor.table import PENDING_MARK, PENDING_NOTE
    from small_gradebook import HAND, HAND_CELLS, HAND_PENDING, HAND_STATE

    db_url = copy_small_gradebook(hand_gradebook_file, tmp_path)
    table = score_table(db_url, HAND[0])
    assert table["tests"] == [name for name, _p, _k in HAND_CELLS]
    assert table["manual"] == [name for name, _p, kind in HAND_CELLS if kind != "test"]
    assert table["pending"] == {s: cells for s, cells in HAND_PENDING.items() if cells}
    for (student, name), (auto, manual, _needs) in HAND_STATE.items():
        expected = manual if manual is not None else (auto or 0.0)
        assert table["students"][student][name] == expected, (student, name)
    lines = format_table(table).splitlines()
    assert lines[-1] == PENDING_NOTE
    rows = {line.split("|")[0].strip(): [c.strip() for c in line.split("|")[1:]] for line in lines[2:-1]}
    total = sum(p for _n, p, _k in HAND_CELLS)
    assert rows["ann"][-1] == f"{2 + 1.5 + 0 + 3:g}/{total}"  # all scored: no mark
    assert rows["bob"][-1] == f"0/{total}{PENDING_MARK}"
    assert rows["cy"][-1] == f"{1 + 1:g}/{total}{PENDING_MARK}"
    # the columns: mean (its test), explain_mean, plot_mean, design_task
    assert rows["cy"][:4] == ["1/2", f"0/2{PENDING_MARK}", "1/1", f"0/3{PENDING_MARK}"]
    assert rows["ann"][:4] == ["2/2", "1.5/2", "0/1", "3/3"]
