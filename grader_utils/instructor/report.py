"""A class report for one assignment: one self-contained HTML file for the instructor.

``write_report(root, "02_padding_strides_pooling", Path("report.html"))`` reads

* the gradebook (``root/gradebook.db`` unless ``db_url`` says otherwise): each submitting
  student's total and per-exercise scores, nbgrader's scores (manual over auto), and the answers graded
  by hand that have no score yet ("needs manual grading", counted as 0 until graded);
* the trusted engine's records ``root/autograded/<student>/<assignment>/<notebook>.grading.json``:
  the diagnosed mistakes and the test cells that did not run normally,

and writes: a histogram of total scores; per exercise the share of students with full marks
and the mean score; how many students each diagnosed mistake hit, per exercise; and a table of
the tests whose status is not ok/wrong/kernel (timeout, crash, invalid, integrity) with their
reasons. Figures are PNG images drawn with matplotlib's Agg canvas (no pyplot, no display) and
embedded as base64, so the file can be mailed or archived alone. Everything that comes from
students (reasons quote their output, names come from the roster) is HTML-escaped.

A diagnosis is a key of :data:`grader_utils.judge.hints.HINTS`: a test entry's ``causes`` list
when the record has one, else every hint whose text occurs in the entry's ``reason``
(:func:`diagnosed_causes`).
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..grading.layout import CourseLayout, course_db_url
from ..grading.records import PROBLEM_STATUSES, NotebookRecord, TestResult
from ..judge.hints import HINTS
from .exporters import assignment_exercises, assignment_rows, exercise_of

__all__ = ["PROBLEM_STATUSES", "diagnosed_causes", "read_records", "ClassStats", "class_stats", "write_report"]


def diagnosed_causes(test: TestResult) -> list[str]:
    """Keys of :data:`HINTS` diagnosed for one test of a ``grading.json`` record: its ``causes``
    (unknown keys dropped, each once, in the order given; a record written before causes were
    recorded has the keys whose hint text its reason quotes, see :meth:`TestResult.from_dict`)."""
    return list(dict.fromkeys(c for c in test.causes if isinstance(c, str) and c in HINTS))


def read_records(root: Path, assignment: str) -> tuple[list[NotebookRecord], list[str]]:
    """The assignment's ``grading.json`` records, and the files that could not be read."""
    records, unreadable = [], []
    for path in CourseLayout(root).records(assignment):
        try:
            records.append(NotebookRecord.read(path))
        except (OSError, ValueError):
            unreadable.append(str(path.relative_to(root)))
    return records, unreadable


@dataclass
class ClassStats:
    """The numbers of the report (what the figures and tables show)."""

    assignment: str
    max_score: float
    totals: dict[str, float]  # submitting student -> total (after late penalty)
    not_submitted: list[str]
    exercise_max: dict[str, float]
    full_marks: dict[str, float]  # exercise -> share of submitting students with full marks
    mean: dict[str, float]  # exercise -> mean score of submitting students
    causes: dict[tuple[str, str], int]  # (exercise, hint key) -> number of students
    problems: list[dict[str, Any]] = field(default_factory=list)  # student, notebook, grade_id, status, reason
    names: dict[str, str] = field(default_factory=dict)  # student -> "First Last" from the gradebook
    unreadable: list[str] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=dict)  # student -> cells that need manual grading
    #: student -> why the submission has no grade (a run interrupted, the environment): not in the totals
    not_graded: dict[str, str] = field(default_factory=dict)


def class_stats(root: Path, assignment: str, db_url: str | None = None) -> ClassStats:
    """Read the gradebook and the records of ``assignment`` into a :class:`ClassStats`."""
    from nbgrader.api import Gradebook

    root = Path(root)
    db_url = course_db_url(root, db_url)
    with Gradebook(db_url) as gb:
        exercise_max = assignment_exercises(gb, assignment)
        rows = assignment_rows(gb, assignment)
        max_score = float(gb.find_assignment(assignment).max_score or 0.0)
    not_graded = {r.student_id: r.not_graded for r in rows if r.submitted and r.not_graded}
    submitted = [r for r in rows if r.submitted and not r.not_graded]  # a submission without a grade counts nowhere
    n = len(submitted)
    full = {
        e: sum(r.exercises.get(e, 0.0) >= m - 1e-9 for r in submitted) / n if n else 0.0
        for e, m in exercise_max.items()
    }
    mean = {e: sum(r.exercises.get(e, 0.0) for r in submitted) / n if n else 0.0 for e in exercise_max}

    records, unreadable = read_records(root, assignment)
    hit: dict[tuple[str, str], set[str]] = defaultdict(set)
    problems = []
    for record in records:
        for test in record.tests:
            for cause in diagnosed_causes(test):
                hit[exercise_of(test.grade_id), cause].add(record.student)
            if test.status in PROBLEM_STATUSES:
                problems.append(
                    {
                        "student": record.student,
                        "notebook": record.notebook,
                        "grade_id": test.grade_id,
                        "status": test.status.value,
                        "reason": str(test.reason),
                        "notes": [str(x) for x in test.notes if x],
                    }
                )
    order = list(exercise_max)
    causes = {
        k: len(v)
        for k, v in sorted(
            hit.items(),
            key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else len(order), -len(kv[1]), kv[0][1]),
        )
    }
    return ClassStats(
        assignment,
        max_score,
        {r.student_id: r.total for r in submitted},
        [r.student_id for r in rows if not r.submitted],
        exercise_max,
        full,
        mean,
        causes,
        problems=problems,
        unreadable=unreadable,
        names={r.student_id: f"{r.first_name} {r.last_name}".strip() for r in rows},
        pending={r.student_id: list(r.pending) for r in submitted if r.pending},
        not_graded=not_graded,
    )


# --- figures ---------------------------------------------------------------------------


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(stats: ClassStats) -> dict[str, str]:
    """{name: base64 PNG} of the report's figures."""
    from matplotlib.figure import Figure

    figs = {}
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    top = max(stats.max_score, 1.0)
    ax.hist(
        list(stats.totals.values()), bins=min(20, max(int(top), 1)), range=(0, top), color="#4477aa", edgecolor="white"
    )
    ax.set(
        xlabel=f"total score (of {stats.max_score:g})",
        ylabel="students",
        title=f"Score distribution ({len(stats.totals)} submissions)",
    )
    figs["scores"] = _png(fig)

    fig = Figure(figsize=(6, 0.5 + 0.4 * max(len(stats.exercise_max), 1)))
    ax = fig.add_subplot()
    names = list(stats.exercise_max)[::-1]
    ax.barh(names, [100 * stats.full_marks[e] for e in names], color="#228833")
    ax.set(xlim=(0, 100), xlabel="% of students with full marks", title="Full marks per exercise")
    figs["exercises"] = _png(fig)

    if stats.causes:
        labels = [f"{e}: {c}" for e, c in stats.causes][::-1]
        fig = Figure(figsize=(7, 0.5 + 0.35 * len(labels)))
        ax = fig.add_subplot()
        ax.barh(labels, list(stats.causes.values())[::-1], color="#cc6677")
        ax.set(xlabel="students", title="Diagnosed mistakes")
        ax.xaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]  # (MaxNLocator)
        figs["causes"] = _png(fig)
    return figs


# --- HTML --------------------------------------------------------------------------------


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(b64: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{b64}" alt="{_e(alt)}">'


def _pending_note(stats: ClassStats) -> str:
    """A sentence on the answers graded by hand that have no score yet ("" when there are none)."""
    if not stats.pending:
        return ""
    cells = sum(len(v) for v in stats.pending.values())
    return (
        f"<p><b>Needs manual grading:</b> {cells} answer(s) of {len(stats.pending)} submission(s) have no score "
        "yet; they count 0 in these totals until a grader scores them in the formgrader.</p>"
    )


def _not_graded_note(stats: ClassStats) -> str:
    """A sentence on the submissions without a grade ("" when there are none): not in the figures or totals."""
    if not stats.not_graded:
        return ""
    who = "; ".join(f"{s} ({why})" for s, why in sorted(stats.not_graded.items()))
    return (
        f"<p><b>Not graded:</b> {_e(who)}. These submissions are left out of the figures and totals; run "
        "<code>cnn-course grade</code> again once the cause is fixed.</p>"
    )


def render(stats: ClassStats) -> str:
    """The report's HTML (every value escaped)."""
    figs = _figures(stats)
    parts = [
        f"<h1>Class report: {_e(stats.assignment)}</h1>",
        f"<p>{len(stats.totals)} submissions; no submission: {_e(', '.join(stats.not_submitted) or 'none')}.</p>",
        "<h2>Score distribution</h2>",
        _img(figs["scores"], "histogram of total scores"),
        _pending_note(stats),
        _not_graded_note(stats),
        _table(
            ["student", "name", "total", "max", "needs manual grading"],
            [
                [s, stats.names.get(s, ""), f"{t:g}", f"{stats.max_score:g}", ", ".join(stats.pending.get(s, []))]
                for s, t in sorted(stats.totals.items())
            ],
        ),
        "<h2>Exercises</h2>",
        _img(figs["exercises"], "share of students with full marks per exercise"),
        _table(
            ["exercise", "points", "full marks", "mean score"],
            [
                [e, f"{m:g}", f"{100 * stats.full_marks[e]:.0f}%", f"{stats.mean[e]:.2f}"]
                for e, m in stats.exercise_max.items()
            ],
        ),
        "<h2>Diagnosed mistakes</h2>",
    ]
    if stats.causes:
        parts += [
            _img(figs["causes"], "number of students per diagnosed mistake"),
            _table(
                ["exercise", "mistake", "students", "what the student was told"],
                [[e, c, n, HINTS[c]] for (e, c), n in stats.causes.items()],
            ),
        ]
    else:
        parts.append("<p>No diagnosed mistakes in the grading records.</p>")
    parts.append("<h2>Tests that did not run normally</h2>")
    if stats.problems:
        parts.append(
            _table(
                ["student", "notebook", "test", "status", "reason", "notes"],
                [
                    [p["student"], p["notebook"], p["grade_id"], p["status"], p["reason"], "; ".join(p["notes"])]
                    for p in stats.problems
                ],
            )
        )
    else:
        parts.append("<p>None: every test ended ok or wrong.</p>")
    if stats.unreadable:
        parts.append(f"<p>Unreadable records: {_e(', '.join(stats.unreadable))}</p>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
        "td{white-space:pre-wrap}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Class report: {_e(stats.assignment)}</title><style>{style}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def write_report(root: Path, assignment: str, out: Path, db_url: str | None = None) -> Path:
    """Write the class report of ``assignment`` (course directory ``root``) to ``out``; returns ``out``."""
    text = render(class_stats(root, assignment, db_url))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
