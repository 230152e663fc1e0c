"""What a graded run of one notebook needs to judge it, and where its record goes.

A :class:`GradingContext` is made by :func:`engine.grade_notebook` (a notebook graded on its own) or,
under nbgrader's autograde, from nbgrader's resources (:meth:`GradingContext.from_nbgrader`: the course's
folders ``source/``, ``release/``, ``submitted/<student>/<assignment>/``, ``autograded/...``); the run
(:class:`graded_run.SandboxedExecute`) leaves its verdicts in ``results``, one per test cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .records import TestResult

__all__ = ["GradingContext"]


@dataclass
class GradingContext:
    """What the run needs to judge a notebook, and where its record goes."""

    source_nb: Path
    release_nb: Path | None = None
    secret: bytes | None = None
    context: str = ""  # assignment/notebook: mixed into hidden inputs
    call_seconds: int = 20
    only: set[str] | None = None
    submission_folder: Path | None = None  # the student's files (plain ones go into the sandbox)
    record: Path | None = None
    record_names: tuple[str, str, str] = ("", "", "")  # student, assignment, notebook
    db_url: str | None = None
    language: str | None = None  # the course's language (CourseLayout.language): verdicts and reasons in it
    results: list[TestResult] = field(default_factory=list)

    @classmethod
    def from_nbgrader(cls, resources: Any) -> GradingContext | None:
        """The context of nbgrader's autograde (None when the resources are not nbgrader's)."""
        from .layout import RECORD_SUFFIX, CourseLayout
        from .secret import course_secret

        try:
            info = resources["nbgrader"]
            autograded = Path(resources["metadata"]["path"]).resolve()  # autograded/<student>/<assignment>
            student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        except (KeyError, TypeError):
            return None
        layout = CourseLayout.of_autograded(autograded)
        return cls(
            source_nb=layout.source_notebook(assignment, notebook),
            release_nb=layout.release_notebook(assignment, notebook),
            secret=course_secret(layout.root),
            context=f"{assignment}/{notebook}",
            submission_folder=layout.submitted(student, assignment),
            record=autograded / f"{notebook}{RECORD_SUFFIX}",
            record_names=(student, assignment, notebook),
            db_url=info.get("db_url"),
            language=layout.language,
        )
