"""Results and records: the one result model from the engine's verdict to every output.

A test cell's result is a :class:`TestResult` whose ``status`` is a :class:`Status`; the engine makes
them, :func:`write_record` writes them (``autograded/<student>/<assignment>/<notebook>.grading.json``),
and everything downstream (the gradebook's scores, the feedback's verdict cells, ``cnn-course grade``'s
summary, the class report) reads them back through :func:`read_record` / :class:`NotebookRecord` as the
same type. A submission as a whole ends as an :class:`~grader_utils.instructor.submission.Outcome` with a
:class:`SubmissionStatus`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .layout import RECORD_SUFFIX

__all__ = [
    "Status",
    "SubmissionStatus",
    "VERDICT_STATUSES",
    "PROBLEM_STATUSES",
    "TestResult",
    "NotebookRecord",
    "read_record",
    "write_record",
]


class Status(str, Enum):
    """What happened to one test cell."""

    OK = "ok"  #: every case right: full points
    DTYPE = "dtype"  #: right values, wrong dtype: DTYPE_SHARE of the points
    WRONG = "wrong"  #: a wrong answer (or a broken rule of the exercise): 0
    TIMEOUT = "timeout"  #: a call did not return in time: 0
    CRASH = "crash"  #: the student's kernel died: 0
    INVALID = "invalid"  #: the submission or an answer could not be read: 0
    INTEGRITY = "integrity"  #: test cells deleted or duplicated (the functions were still judged)
    FAILED = "failed"  #: the grader itself failed: 0, never a score left over
    ENVIRONMENT = "environment"  #: not graded: the grading environment failed (no verdict, the student's score kept)

    def __str__(self) -> str:
        return self.value

    @property
    def is_verdict(self) -> bool:
        """A verdict on the answers (the others are problems of the run or of the grader)."""
        return self in VERDICT_STATUSES


#: statuses that are a verdict on the answers
VERDICT_STATUSES = frozenset({Status.OK, Status.WRONG, Status.DTYPE})
#: statuses the class report lists as problems to look at
PROBLEM_STATUSES = frozenset(
    {Status.FAILED, Status.TIMEOUT, Status.CRASH, Status.INVALID, Status.INTEGRITY, Status.ENVIRONMENT}
)


class SubmissionStatus(str, Enum):
    """What happened to one submission (all its notebooks)."""

    GRADED = "graded"  #: the engine's scores are in the gradebook
    FAILED = "failed"  #: something could not be graded: 0 points, the reason recorded
    TIMEOUT = "timeout"  #: grading was stopped: 0 points
    #: not graded: the grading environment failed, not the submission (a kernel that cannot start anywhere, the
    #: sandbox, the grading process's imports, a full disk); the previous grade, if any, is kept
    ENVIRONMENT = "environment"

    def __str__(self) -> str:
        return self.value


@dataclass
class TestResult:
    """The result of one test cell: what the engine decided, written to the record, stored in the
    gradebook, summed in the summary table and counted in the class report."""

    grade_id: str
    status: Status
    score: float
    max_score: float
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # keys of hints.HINTS naming the likely mistake

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # a record read back: its text becomes a Status (ValueError if unknown)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: Any) -> TestResult:
        """A result from a record's JSON (ValueError when it is not one)."""
        if not isinstance(data, dict):
            raise ValueError("a test result is not a JSON object")
        fields = set(cls.__dataclass_fields__)
        if "causes" not in data and isinstance(data.get("reason"), str):
            # a record written before causes were recorded: the hints its reason quotes
            from ..judge.hints import HINTS

            data = {**data, "causes": [key for key, text in HINTS.items() if text in data["reason"]]}
        try:
            return cls(**{k: v for k, v in data.items() if k in fields})
        except TypeError as exc:
            raise ValueError(f"a test result lacks a field ({exc})") from None


@dataclass
class NotebookRecord:
    """The record of one graded notebook (``autograded/<student>/<assignment>/<notebook>.grading.json``)."""

    student: str
    assignment: str
    notebook: str
    tests: list[TestResult]

    @classmethod
    def read(cls, path: Path) -> NotebookRecord:
        """The record at ``path`` (ValueError when it is not one; the student and notebook default to the
        record's place in ``autograded/``)."""
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        tests = record.get("tests") if isinstance(record, dict) else None
        if not isinstance(tests, list):
            raise ValueError(f"{path} is not a grading record")
        path = Path(path)
        return cls(
            str(record.get("student", path.parent.parent.name)),
            str(record.get("assignment", path.parent.name)),
            str(record.get("notebook", path.name[: -len(RECORD_SUFFIX)])),
            [TestResult.from_dict(t) for t in tests],
        )


def read_record(path: Path) -> list[TestResult]:
    """The results of a record written by :func:`write_record` (ValueError when it is not one)."""
    record = json.loads(Path(path).read_text())
    tests = record.get("tests") if isinstance(record, dict) else None
    if not isinstance(tests, list):
        raise ValueError(f"{path} is not a grading record")
    return [TestResult.from_dict(t) for t in tests]


def write_record(path: Path, student: str, assignment: str, notebook: str, results: list[TestResult]) -> None:
    """Write the record of one notebook atomically (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "student": student,
        "assignment": assignment,
        "notebook": notebook,
        "tests": [r.to_dict() for r in results],
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grading-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
