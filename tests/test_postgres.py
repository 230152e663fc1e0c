"""The same class graded with a PostgreSQL gradebook and with the default SQLite one.

A real PostgreSQL server (``postgres_server`` in ``tests/postgres.py``) holds the gradebook of one
course copy; a second copy keeps the embedded SQLite default. Both grade the same small class of
01_convolution (the demo students alice and bob, and ``badjson`` whose notebook is not JSON) with two
parallel workers, starting from an empty gradebook (so ``ensure_assignment`` records the assignment
first). The scores must be equal, test cell by test cell, and those of demo/expected_scores.json;
regrading must replace scores; nbgrader's own ``export`` must read the PostgreSQL gradebook.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, copy_course, load_json, nbgrader
from postgres import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.postgres]

A = "01_convolution"
NB = "convolution.ipynb"
STATUS = {"alice": "graded", "bob": "graded", "badjson": "failed"}


@dataclass
class Graded:
    """The two course copies after the first grading, their gradebook URLs and outcomes."""

    pg_course: Path
    pg_url: str
    pg_outcomes: dict
    sqlite_course: Path
    sqlite_url: str
    sqlite_outcomes: dict


def _make_class(course: Path) -> Path:
    """submitted/: alice and bob from their demo answers (on the committed release notebook), and badjson."""
    from grader_utils.instructor.demo import build_submission, read_answers

    for student in ("alice", "bob"):
        dest = course / "submitted" / student / A
        dest.mkdir(parents=True)
        build_submission(ROOT / "release" / A / NB, read_answers(ROOT / "demo" / A / f"{student}.py"), dest / NB)
    bad = course / "submitted" / "badjson" / A
    bad.mkdir(parents=True)
    (bad / NB).write_text('{"cells": [ this is not json')
    return course


def grade_scores(db_url: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} of assignment 01 as the gradebook at ``db_url`` has it."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {
            sub.student.id: {g.name: float(g.score) for nb in sub.notebooks for g in nb.grades}
            for sub in gb.assignment_submissions(A)
        }


def total_scores(db_url: str) -> dict[str, float]:
    """{student: total score} of assignment 01."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {sub.student.id: float(sub.score) for sub in gb.assignment_submissions(A)}


@pytest.fixture(scope="module")
def venv_on_path() -> Iterator[None]:
    """nbgrader runs ``alembic`` by name when it creates a gradebook: the venv's bin/ comes first
    (as `make` arranges with its exported PATH)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        yield


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, venv_on_path: None) -> Graded:
    from grader_utils.instructor.pipeline import grade_assignment

    postgres_server.create_database("gradebook01")
    pg_url = postgres_server.url("gradebook01")
    pg_course = _make_class(copy_course(tmp_path_factory.mktemp("pg-course")))
    # the plain form an instructor writes; the pipeline picks the installed driver (psycopg2)
    plain_url = postgres_server.url("gradebook01", driver=None)
    pg_outcomes = {
        o.student: o
        for o in grade_assignment(pg_course, A, jobs=2, db_url=plain_url, task_seconds=300, preflight=False)
    }
    sqlite_course = _make_class(copy_course(tmp_path_factory.mktemp("sqlite-course")))
    sqlite_outcomes = {
        o.student: o for o in grade_assignment(sqlite_course, A, jobs=2, task_seconds=300, preflight=False)
    }
    return Graded(
        pg_course, pg_url, pg_outcomes, sqlite_course, f"sqlite:///{sqlite_course / 'gradebook.db'}", sqlite_outcomes
    )


def test_postgres_and_sqlite_give_the_same_scores(graded: Graded) -> None:
    assert {s: o.status for s, o in graded.pg_outcomes.items()} == STATUS
    assert {s: o.status for s, o in graded.sqlite_outcomes.items()} == STATUS
    pg, sqlite = grade_scores(graded.pg_url), grade_scores(graded.sqlite_url)
    expected = load_json(ROOT / "demo" / "expected_scores.json")[A]
    for student in ("alice", "bob"):
        assert pg[student] == expected[student], student
        assert graded.pg_outcomes[student].score == sum(expected[student].values())
    assert pg == sqlite
    assert total_scores(graded.pg_url) == total_scores(graded.sqlite_url)


def test_broken_submission_fails_and_scores_zero(graded: Graded) -> None:
    outcome = graded.pg_outcomes["badjson"]
    assert outcome.status == "failed" and outcome.reason
    assert outcome.score == 0.0
    assert set(grade_scores(graded.pg_url).get("badjson", {0: 0.0}).values()) == {0.0}
    assert total_scores(graded.pg_url).get("badjson", 0.0) == 0.0


def test_the_gradebook_really_is_in_postgres(graded: Graded, postgres_server: PostgresServer) -> None:
    assert not (graded.pg_course / "gradebook.db").exists()
    assert (graded.pg_course / "release" / A / NB).exists()  # ensure_assignment ran generate_assignment
    conn = postgres_server.connect("gradebook01")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM assignment")
            assert [row[0] for row in cur.fetchall()] == [A]
            cur.execute("SELECT count(*) FROM grade_cells")
            assert cur.fetchone()[0] == len(load_json(ROOT / "demo" / "expected_scores.json")[A]["alice"])
            cur.execute("SELECT id FROM student ORDER BY id")
            assert [row[0] for row in cur.fetchall()] == ["alice", "badjson", "bob"]
    finally:
        conn.close()


def test_regrade_replaces_scores(graded: Graded) -> None:
    """alice resubmits bob's answers: after the regrade she has exactly bob's scores, none of her old ones."""
    from grader_utils.instructor.demo import build_submission, read_answers
    from grader_utils.instructor.pipeline import grade_assignment

    before = grade_scores(graded.pg_url)
    assert before["alice"] != before["bob"]
    build_submission(
        ROOT / "release" / A / NB,
        read_answers(ROOT / "demo" / A / "bob.py"),
        graded.pg_course / "submitted" / "alice" / A / NB,
    )
    [outcome] = grade_assignment(
        graded.pg_course, A, ["alice"], jobs=1, db_url=graded.pg_url, task_seconds=300, preflight=False
    )
    assert outcome.status == "graded"
    after = grade_scores(graded.pg_url)
    assert after["alice"] == before["bob"]
    assert after["bob"] == before["bob"]


def test_nbgrader_export_reads_the_postgres_gradebook(graded: Graded, tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    nbgrader(graded.pg_course, "export", f"--CourseDirectory.db_url={graded.pg_url}", f"--to={out}")
    with open(out, newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == A}
    totals = total_scores(graded.pg_url)
    assert set(rows) == {"alice", "bob", "badjson"}
    assert {s: float(r["score"]) for s, r in rows.items()} == totals
    assert float(rows["alice"]["score"]) == float(rows["bob"]["score"])  # after the regrade
    assert not (graded.pg_course / "gradebook.db").exists()  # nbgrader did not fall back to SQLite
