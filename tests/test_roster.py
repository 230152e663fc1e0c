"""instructor/roster.py: the class roster into a real gradebook (a copy of tests/small_gradebook.py's; a new
gradebook made by the roster command: test_layout.py)."""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook

from conftest import ROOT, copy_small_gradebook
from grader_utils.instructor.roster import load_roster


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_demo_roster_adds_its_students_to_the_gradebook(small_gradebook_file, tmp_path):
    roster = ROOT / "demo" / "students.csv"
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    with Gradebook(db_url) as gb:
        before = {s.id for s in gb.students}
    ids = load_roster(roster, db_url)
    rows = _rows(roster)
    assert ids == [r["id"] for r in rows] and ids
    with Gradebook(db_url) as gb:
        stored = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students if s.id in ids}
        kept = {s.id for s in gb.students} - set(ids)
    assert kept == before - set(ids) and kept, "the gradebook's other students stay"
    assert stored == {
        r["id"]: (r.get("first_name") or None, r.get("last_name") or None, r.get("email") or None) for r in rows
    }


def test_a_second_roster_updates_students_and_keeps_the_others(small_gradebook_file, tmp_path):
    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("id,first_name,last_name,email\ndee,Dee,Lee,dee@example.org\neve,Eve,,\n")
    second.write_text("id,first_name,last_name,email,lms_user_id\neve,Evelyn,Smith,eve@example.org,7\n")
    assert load_roster(first, db_url) == ["dee", "eve"]
    assert load_roster(second, db_url) == ["eve"]
    with Gradebook(db_url) as gb:
        dee, eve = gb.find_student("dee"), gb.find_student("eve")
        assert (dee.first_name, dee.last_name) == ("Dee", "Lee")
        assert (eve.first_name, eve.last_name, eve.email) == ("Evelyn", "Smith", "eve@example.org")
        assert eve.lms_user_id == "7"
        assert gb.find_student("ann").first_name == "Ann"  # the gradebook's other students stay
