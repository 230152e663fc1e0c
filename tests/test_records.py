"""grading/records.py: the one result model, written to a record and read back as the same type."""

from __future__ import annotations

import json

import pytest

from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.records import (
    PROBLEM_STATUSES,
    VERDICT_STATUSES,
    NotebookRecord,
    Status,
    SubmissionStatus,
    read_record,
    write_record,
)
from grader_utils.grading.records import TestResult as Result
from grader_utils.judge.hints import HINTS

RESULTS = [
    Result("conv__basic", Status.OK, 2.0, 2.0, "all right"),
    Result("conv__hidden", Status.WRONG, 0.0, 3.0, "wrong", notes=["n"], causes=["same_floor"]),
    Result("pool__basic", Status.DTYPE, 0.75, 1.0, "dtype"),
]


def test_every_status_is_a_verdict_or_a_problem_never_both():
    assert set(Status) == VERDICT_STATUSES | PROBLEM_STATUSES and not VERDICT_STATUSES & PROBLEM_STATUSES
    assert all(s.is_verdict == (s in VERDICT_STATUSES) for s in Status)
    assert str(Status.TIMEOUT) == "timeout" and str(SubmissionStatus.GRADED) == "graded"


def test_a_record_reads_back_as_the_results_written(tmp_path):
    path = CourseLayout(tmp_path).record("ann", "01_a", "nb")
    write_record(path, "ann", "01_a", "nb", RESULTS)
    assert read_record(path) == RESULTS
    record = NotebookRecord.read(path)
    assert (record.student, record.assignment, record.notebook, record.tests) == ("ann", "01_a", "nb", RESULTS)
    assert json.loads(path.read_text())["tests"][1]["status"] == "wrong"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file is left behind"


def test_a_record_without_names_takes_them_from_its_place(tmp_path):
    path = CourseLayout(tmp_path).record("bob", "02_b", "shapes")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"tests": [RESULTS[0].to_dict()]}))
    record = NotebookRecord.read(path)
    assert (record.student, record.assignment, record.notebook) == ("bob", "02_b", "shapes")


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"tests": 3}',
        '{"tests": [{"grade_id": "x", "status": "ok"}]}',
        '{"tests": [{"grade_id": "x", "status": "fine", "score": 1, "max_score": 1}]}',
        '{"tests": ["ok"]}',
    ],
)
def test_anything_else_is_refused_with_value_error(tmp_path, text):
    path = tmp_path / f"x{len(text)}.grading.json"
    path.write_text(text)
    with pytest.raises(ValueError):
        read_record(path)
    with pytest.raises(ValueError):
        NotebookRecord.read(path)


def test_an_old_record_gets_the_causes_its_reason_quotes():
    old = {
        "grade_id": "x",
        "status": "wrong",
        "score": 0,
        "max_score": 1,
        "reason": f"2 of 5 wrong. Likely cause: {HINTS['same_floor']}",
    }
    assert Result.from_dict(old).causes == ["same_floor"]
    assert Result.from_dict({**old, "causes": []}).causes == []
