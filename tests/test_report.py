"""The class report (grader_utils/report.py): real gradebook, real records, real matplotlib PNGs."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from matplotlib.image import imread
from nbgrader.api import Gradebook

from conftest import copy_small_gradebook
from grader_utils.grading import records
from grader_utils.grading.records import PROBLEM_STATUSES
from grader_utils.instructor.exporters import exercise_of
from grader_utils.instructor.report import class_stats, diagnosed_causes, write_report
from grader_utils.judge.hints import HINTS
from small_gradebook import LAYOUT, STUDENTS, truth

ASSIGNMENT, NOTEBOOK, CELLS = LAYOUT[0]
SCRIPT = "<script>alert('pwned')</script>"
EVIL_NAME = "<img src=x onerror=alert(1)>"

#: the records' test entries: student -> grade_id -> (status, hint keys the reason quotes, "causes" field or None)
SPEC: dict[str, dict[str, tuple[str, list[str], list[str] | None]]] = {
    "ann": {},  # everything ok
    "bob": {
        "conv_shape__basic": ("wrong", ["same_floor"], None),
        "conv_shape__random": ("wrong", ["same_floor", "valid_missing_plus_one"], None),
        "pool_shape__basic": ("crash", [], None),
    },
    "cy": {
        "conv_shape__basic": ("wrong", ["same_floor"], ["swapped_height_width"]),  # causes wins over text
        "conv_shape__random": ("timeout", [], None),
        "pool_shape__basic": ("integrity", [], None),
    },
}


def reason_for(student: str, grade_id: str, status: str, keys: list[str]) -> str:
    if status == "crash":
        return f"the notebook printed {SCRIPT} and ended"
    return f"{grade_id} of {student}: got (2, 3), Keras gives (3, 3)." + "".join(
        f" Likely cause: {HINTS[k]}" for k in keys
    )


def expected_counts() -> dict[tuple[str, str], int]:
    """(exercise, cause) -> number of students, from SPEC (the records are written from it)."""
    hit: dict[tuple[str, str], set[str]] = {}
    for student, tests in SPEC.items():
        for grade_id, (_status, keys, causes) in tests.items():
            for key in causes if causes is not None else keys:
                hit.setdefault((exercise_of(grade_id), key), set()).add(student)
    return {k: len(v) for k, v in hit.items()}


@pytest.fixture
def course(small_gradebook_file: Path, tmp_path: Path) -> Path:
    """A course directory with the small gradebook and grading records written from SPEC."""
    copy_small_gradebook(small_gradebook_file, tmp_path)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        gb.find_student("ann").last_name = EVIL_NAME  # student-controlled text in the roster, too
        gb.db.commit()
    for student, tests in SPEC.items():
        results = []
        for grade_id, points in CELLS:
            status, keys, _causes = tests.get(grade_id, ("ok", [], None))
            reason = "" if status == "ok" else reason_for(student, grade_id, status, keys)
            notes = ["test cell was duplicated"] if status == "integrity" else []
            score = points if status == "ok" else 0.0
            results.append(records.TestResult(grade_id, status, score, points, reason, notes))
        path = tmp_path / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.grading.json"
        records.write_record(path, student, ASSIGNMENT, NOTEBOOK, results)
        record = json.loads(path.read_text())
        for test in record["tests"]:  # the engine's "causes" field where SPEC has it; records without it elsewhere
            causes = tests.get(test["grade_id"], ("ok", [], None))[2]
            if causes is not None:
                test["causes"] = causes
            else:
                test.pop("causes", None)
        path.write_text(json.dumps(record))
    return tmp_path


def pngs(page: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


# --- diagnosed_causes ----------------------------------------------------------------


def entry(**fields) -> records.TestResult:
    """One test of a record as the report reads it back (the fields a record may lack take defaults)."""
    return records.TestResult.from_dict(
        {"grade_id": "conv2d__basic", "status": "wrong", "score": 0.0, "max_score": 1.0, **fields}
    )


def test_causes_field_is_used_when_present() -> None:
    test = {"reason": f"wrong. Likely cause: {HINTS['same_floor']}", "causes": ["off_by_one", "nonsense", "off_by_one"]}
    assert diagnosed_causes(entry(**test)) == ["off_by_one"]  # unknown keys dropped, each once
    assert diagnosed_causes(entry(reason=HINTS["same_floor"], causes=[])) == []  # recorded: no diagnosis


def test_causes_found_by_hint_text_in_reason() -> None:
    for key, text in HINTS.items():
        assert diagnosed_causes(entry(**{"reason": f"conv2d(x, k): got 1.0. Likely cause: {text}"})) == [key]
    both = {"reason": f"{HINTS['average_counts_padding']} {HINTS['same_extra_top_left']}"}
    assert diagnosed_causes(entry(**both)) == ["same_extra_top_left", "average_counts_padding"]  # HINTS order
    assert diagnosed_causes(entry(**{"reason": "wrong shape"})) == []
    assert diagnosed_causes(entry(**{"status": "ok", "reason": ""})) == []
    assert diagnosed_causes(entry(**{"reason": HINTS["same_floor"][:-5]})) == []  # a cut hint is no diagnosis


# --- the report on hand-made records -------------------------------------------------------


def test_stats_match_records_and_gradebook(course: Path) -> None:
    stats = class_stats(course, ASSIGNMENT)
    assert stats.causes == expected_counts()
    assert stats.causes[("conv_shape", "same_floor")] == 1  # bob twice in one exercise: one student
    expected_problems = sorted(
        (s, g, st) for s, tests in SPEC.items() for g, (st, _k, _c) in tests.items() if st in PROBLEM_STATUSES
    )
    assert sorted((p["student"], p["grade_id"], p["status"]) for p in stats.problems) == expected_problems
    t = truth(f"sqlite:///{course / 'gradebook.db'}")
    assert stats.totals == {s: pytest.approx(t["total"][ASSIGNMENT, s]) for s in t["order"]}
    for ex, points in stats.exercise_max.items():
        cells = [c for c in t["cells"][ASSIGNMENT] if exercise_of(c) == ex]
        got = {s: sum(t["grade"][s, c] for c in cells) for s in t["order"]}
        assert stats.full_marks[ex] == pytest.approx(sum(v >= points for v in got.values()) / len(got))
        assert stats.mean[ex] == pytest.approx(sum(got.values()) / len(got))


def test_report_html(course: Path, tmp_path: Path) -> None:
    out = write_report(course, ASSIGNMENT, tmp_path / "out" / "report.html")
    page = out.read_text(encoding="utf-8")
    images = pngs(page)
    assert len(images) == 3  # score histogram, exercises, mistakes
    for png in images:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert imread(io.BytesIO(png), format="png").shape[0] > 50
    # student-controlled text is escaped, wherever it appears
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # ann's name, shown escaped
    for (ex, cause), n in expected_counts().items():
        assert f"<td>{ex}</td><td>{cause}</td><td>{n}</td>" in page
    for s, tests in SPEC.items():
        for g, (st, _k, _c) in tests.items():
            assert (f"<td>{s}</td><td>{NOTEBOOK}</td><td>{g}</td><td>{st}</td>" in page) == (st in PROBLEM_STATUSES)


def test_report_escaping_is_real(course: Path, tmp_path: Path) -> None:
    """Without escaping the same page would carry the script: the check above can fail."""
    from grader_utils.instructor import report

    stats = class_stats(course, ASSIGNMENT)
    original = report._e
    try:
        report._e = str  # what an unescaped report would do
        assert SCRIPT in report.render(stats)
    finally:
        report._e = original
    assert SCRIPT not in report.render(stats)


def test_report_without_records_or_diagnoses(small_gradebook_file: Path, tmp_path: Path) -> None:
    copy_small_gradebook(small_gradebook_file, tmp_path)
    page = write_report(tmp_path, "a2_models", tmp_path / "r.html").read_text()
    assert len(pngs(page)) == 2 and "No diagnosed mistakes" in page
    assert "no submission: cy" in page  # cy never submitted a2_models
    assert [s for s, *_ in STUDENTS if s != "cy"] == sorted(class_stats(tmp_path, "a2_models").totals)


def test_a_submission_without_a_grade_is_named_and_left_out_of_the_totals(
    small_gradebook_file: Path, tmp_path: Path
) -> None:
    from grader_utils.grading import grading_state

    db_url = copy_small_gradebook(small_gradebook_file, tmp_path)
    grading_state.begin(db_url, "a2_models", "ann")  # ... and the grading run is killed
    stats = class_stats(tmp_path, "a2_models")
    assert "ann" not in stats.totals and stats.not_graded["ann"].startswith("not graded (run interrupted")
    page = write_report(tmp_path, "a2_models", tmp_path / "r.html").read_text()
    assert "<b>Not graded:</b> ann (not graded (run interrupted" in page


# --- the demo class after real autograding --------------------------------------------


@pytest.mark.slow
def test_demo_class_report(graded_course: Path, tmp_path: Path) -> None:
    for a in sorted(p.name for p in (graded_course / "source").iterdir()):
        stats = class_stats(graded_course, a)
        page = write_report(graded_course, a, tmp_path / f"{a}.html").read_text()
        assert all(png.startswith(b"\x89PNG") for png in pngs(page)) and len(pngs(page)) >= 2
        records = list((graded_course / "autograded").glob(f"*/{a}/*.grading.json"))
        assert records
        hit: dict[tuple[str, str], set[str]] = {}
        for path in records:
            record = json.loads(path.read_text())
            for test in record["tests"]:
                for key, text in HINTS.items():
                    if key in (test.get("causes") or []) or ("causes" not in test and text in test["reason"]):
                        hit.setdefault((exercise_of(test["grade_id"]), key), set()).add(record["student"])
        assert stats.causes == {k: len(v) for k, v in hit.items()}
        assert stats.totals["solution"] == stats.max_score and stats.totals["untouched"] == 0
    # README: in 01, bob flips the kernel
    assert class_stats(graded_course, "01_convolution").causes.get(("correlate2d", "flipped_kernel"), 0) >= 1


def test_the_report_names_the_answers_that_need_manual_grading(hand_gradebook_file: Path, tmp_path: Path) -> None:
    """Totals count a grader's score once given; the answers without one are listed per student."""
    from small_gradebook import HAND, HAND_PENDING

    copy_small_gradebook(hand_gradebook_file, tmp_path)
    t = truth(f"sqlite:///{tmp_path / 'gradebook.db'}")
    stats = class_stats(tmp_path, HAND[0])
    assert stats.pending == {s: cells for s, cells in HAND_PENDING.items() if cells}
    assert stats.totals == {s: pytest.approx(t["total"][HAND[0], s]) for s in HAND_PENDING}
    page = write_report(tmp_path, HAND[0], tmp_path / "r.html").read_text()
    assert "Needs manual grading" in page and "<th>needs manual grading</th>" in page
    for student, cells in HAND_PENDING.items():
        row = re.search(rf"<tr><td>{student}</td>.*?</tr>", page)
        assert row and row[0].endswith(f"<td>{', '.join(cells)}</td></tr>"), student
    assert HAND_PENDING["ann"] == []  # ann: every answer graded, the column empty
