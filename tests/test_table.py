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
