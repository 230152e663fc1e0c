"""Where each submission's grading stands, beside nbgrader's gradebook: no grade is lost to a failed or interrupted run.

nbgrader's gradebook holds scores, not whether they are the outcome of a completed grading. This module keeps one
row per submission in a table of its own in the same database (SQLite or PostgreSQL: the gradebook's URL), with

- ``state``: ``grading`` (a run started and has not finished: in progress, or interrupted when its process was
  killed), ``graded`` (the engine's verdicts are stored), ``failed`` (the submission could not be graded for a
  reason of its own: 0 points, fail closed) or ``environment`` (the grading environment failed, not the
  submission: nothing of that run counts);
- ``previous``: the auto scores of the last *completed* grading, taken when a run starts (``{notebook: {grade
  cell: auto score}}``), or none when the submission was never graded;
- ``reason``: why it is not graded.

A run calls :func:`begin` before it touches the gradebook, then :func:`finish` (graded or failed) or
:func:`keep_previous` (environment: the previous auto scores go back into the gradebook, or 0 with "not graded"
when there were none). A run that is killed leaves ``grading``: readers (:func:`not_graded`: the score table, the
class report, the exports) then say "not graded" instead of the half-written scores, and the next run restores the
snapshot it finds, so that a trusted grade of an earlier run is never replaced by the scores of a run that did not
complete. Only auto scores of auto-graded test cells are snapshotted and restored: manual scores are the graders'.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TABLE",
    "GRADING",
    "GRADED",
    "FAILED",
    "ENVIRONMENT",
    "SubmissionState",
    "begin",
    "finish",
    "keep_previous",
    "states",
    "states_in",
    "not_graded",
    "label",
]

#: the table beside nbgrader's (its name says whose it is)
TABLE = "grader_utils_grading_state"
GRADING, GRADED, FAILED, ENVIRONMENT = "grading", "graded", "failed", "environment"
_STATES = (GRADING, GRADED, FAILED, ENVIRONMENT)


@dataclass
class SubmissionState:
    """One submission's row: its state, why, and the auto scores of its last completed grading (if any)."""

    assignment: str
    student: str
    state: str
    reason: str = ""
    previous: dict[str, dict[str, float]] | None = None
    updated: float = 0.0
    #: (from :func:`begin`) the snapshot is an earlier run's, kept because that run did not complete
    kept: bool = False

    @property
    def counts(self) -> bool:
        """Whether the gradebook's scores of this submission are the outcome of a completed grading (``graded``,
        ``failed``) or restored from one (``environment`` with a previous grade)."""
        return self.state in (GRADED, FAILED) or (self.state == ENVIRONMENT and self.previous is not None)


def _table(metadata: Any) -> Any:
    from sqlalchemy import Column, Float, String, Table, Text

    return Table(
        TABLE,
        metadata,
        Column("assignment", String(128), primary_key=True),
        Column("student", String(128), primary_key=True),
        Column("state", String(16), nullable=False),
        Column("reason", Text, nullable=False, default=""),
        Column("previous", Text, nullable=True),
        Column("updated", Float, nullable=False),
    )


_ENGINES: dict[str, Any] = {}


def _engine(db_url: str) -> tuple[Any, Any]:
    """(engine, table) for the gradebook at ``db_url``; the table is created when missing."""
    if db_url not in _ENGINES:
        from sqlalchemy import MetaData, create_engine

        kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}} if db_url.startswith("sqlite") else {}
        engine = create_engine(db_url, **kwargs)
        table = _table(MetaData())
        table.create(engine, checkfirst=True)
        _ENGINES[db_url] = (engine, table)
    return _ENGINES[db_url]


def _row(conn: Any, table: Any, assignment: str, student: str) -> SubmissionState | None:
    from sqlalchemy import select

    r = (
        conn.execute(select(table).where(table.c.assignment == assignment, table.c.student == student))
        .mappings()
        .first()
    )
    return _state(r) if r is not None else None


def _state(r: Any) -> SubmissionState:
    previous = json.loads(r["previous"]) if r["previous"] else None
    return SubmissionState(r["assignment"], r["student"], r["state"], r["reason"] or "", previous, r["updated"])


def _put(conn: Any, table: Any, s: SubmissionState) -> None:
    from sqlalchemy import delete, insert

    if s.state not in _STATES:
        raise ValueError(f"unknown grading state {s.state!r}")
    conn.execute(delete(table).where(table.c.assignment == s.assignment, table.c.student == s.student))
    conn.execute(
        insert(table).values(
            assignment=s.assignment,
            student=s.student,
            state=s.state,
            reason=s.reason[:1000],
            previous=json.dumps(s.previous) if s.previous is not None else None,
            updated=time.time(),
        )
    )


def _auto_scores(db_url: str, assignment: str, student: str) -> dict[str, dict[str, float]] | None:
    """The submission's auto scores of its auto-graded test cells, by notebook (None: no submission, or none set)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .gradebook import is_auto_graded

    with Gradebook(db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        scores = {
            nb.name: {g.name: float(g.auto_score) for g in nb.grades if is_auto_graded(g) and g.auto_score is not None}
            for nb in sub.notebooks
        }
    return scores if any(scores.values()) else None


def begin(db_url: str, assignment: str, student: str) -> SubmissionState:
    """Record that a grading of the submission starts, before anything of it is changed. The snapshot of the last
    completed grading is taken now, unless an earlier run did not complete (``grading``) or failed for the
    environment: then the gradebook may hold that run's scores, and the snapshot it kept stays the one."""
    engine, table = _engine(db_url)
    with engine.begin() as conn:
        old = _row(conn, table, assignment, student)
    if old is not None and old.state in (GRADING, ENVIRONMENT):
        previous = old.previous
    elif old is None or old.state in (GRADED, FAILED):
        # a submission graded before this table existed: its scores came from a completed run of the same grader
        previous = _auto_scores(db_url, assignment, student)
    else:  # pragma: no cover  (every state is handled above)
        previous = None
    new = SubmissionState(assignment, student, GRADING, "", previous)
    new.kept = old is not None and old.state in (GRADING, ENVIRONMENT)
    with engine.begin() as conn:
        _put(conn, table, new)
    return new


def finish(db_url: str, assignment: str, student: str, state: str = GRADED, reason: str = "") -> None:
    """The run completed: ``graded`` (the engine's scores are stored) or ``failed`` (the submission's own failure:
    its 0 stands, fail closed). The snapshot is dropped: the gradebook's scores are this run's."""
    if state not in (GRADED, FAILED):
        raise ValueError(f"finish() takes {GRADED!r} or {FAILED!r}, not {state!r}")
    engine, table = _engine(db_url)
    with engine.begin() as conn:
        _put(conn, table, SubmissionState(assignment, student, state, reason, None))


def keep_previous(db_url: str, assignment: str, student: str, reason: str) -> SubmissionState:
    """The run failed for the environment's reasons: the auto scores of the last completed grading go back into the
    gradebook (0 when there was none: nothing of a failed run leaves a score) and the state says why."""
    from nbgrader.api import Gradebook, MissingEntry

    from .gradebook import is_auto_graded

    engine, table = _engine(db_url)
    with engine.begin() as conn:
        old = _row(conn, table, assignment, student)
    previous = old.previous if old is not None else None
    with Gradebook(db_url) as gb:
        try:
            notebooks = list(gb.find_submission(assignment, student).notebooks)
        except MissingEntry:
            notebooks = []
        for nb in notebooks:
            kept = (previous or {}).get(nb.name, {})
            for grade in nb.grades:
                if is_auto_graded(grade):
                    grade.auto_score = float(kept.get(grade.name, 0.0))
                    grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()
    state = SubmissionState(assignment, student, ENVIRONMENT, reason, previous)
    with engine.begin() as conn:
        _put(conn, table, state)
    return state


def states(db_url: str, assignment: str) -> dict[str, SubmissionState]:
    """Every recorded submission of ``assignment``: ``{student: SubmissionState}``."""
    from sqlalchemy import select

    engine, table = _engine(db_url)
    with engine.begin() as conn:
        rows = conn.execute(select(table).where(table.c.assignment == assignment)).mappings().all()
    return {r["student"]: _state(r) for r in rows}


def states_in(session: Any, assignment: str) -> dict[str, SubmissionState]:
    """:func:`states` read through an open SQLAlchemy session (e.g. nbgrader's ``Gradebook.db``); {} when the
    gradebook has no such table (nothing was graded since it was made)."""
    from sqlalchemy import MetaData, inspect, select

    if not inspect(session.get_bind()).has_table(TABLE):
        return {}
    table = _table(MetaData())
    rows = session.execute(select(table).where(table.c.assignment == assignment)).mappings().all()
    return {r["student"]: _state(r) for r in rows}


def not_graded(db_url: str, assignment: str) -> dict[str, SubmissionState]:
    """The submissions whose gradebook scores are not the outcome of a completed grading: a run in progress or
    interrupted (``grading``), or an environment failure without an earlier grade. Readers show them as
    :func:`label` says, never as a score."""
    return {s: st for s, st in states(db_url, assignment).items() if not st.counts}


def label(state: SubmissionState) -> str:
    """What a table or an export says of a submission that is not graded."""
    if state.state == ENVIRONMENT:
        return "not graded (environment)"
    return "not graded (run interrupted or in progress)"
