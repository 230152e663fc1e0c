"""What a graded run of one notebook needs to judge it, and where its record goes.

A :class:`GradingContext` is made by :func:`engine.grade_notebook` (a notebook graded on its own) or,
under nbgrader's autograde, from nbgrader's resources and course directory
(:meth:`GradingContext.from_nbgrader`: the course's folders ``source/``, ``release/``,
``submitted/<student>/<assignment>/``, ``autograded/...`` as nbgrader's ``CourseDirectory`` names them,
so any nbgrader course works, wherever this package is installed); the run
(:class:`graded_run.SandboxedExecute`) leaves its verdicts in ``results``, one per test cell.
"""

from __future__ import annotations

import os
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
    student: str = ""  # whose submission: mixed into hidden inputs (with every file of the submission)
    db_url: str | None = None
    language: str | None = None  # the course's language (CourseLayout.language): verdicts and reasons in it
    results: list[TestResult] = field(default_factory=list)
    #: folders the student's kernel must not see besides the defaults (the course directory, its exchange)
    hide: list[Path] = field(default_factory=list)

    @classmethod
    def from_nbgrader(
        cls, resources: Any, coursedir: Any = None, exchange_root: str | None = None
    ) -> GradingContext | None:
        """The context of nbgrader's autograde (None when the resources are not nbgrader's).

        coursedir: nbgrader's ``CourseDirectory`` of the run (the autograde app's: its ``root`` and folder
        names, whatever the config or the working folder made them); without it the course is the folder
        three levels above the autograded notebook's (nbgrader's default layout). The course secret lives
        in that course directory; the course directory and ``exchange_root`` (nbgrader's ``Exchange.root``,
        when the config sets one) are hidden from the student's kernel."""
        from .layout import RECORD_SUFFIX, CourseLayout
        from .secret import course_secret

        try:
            info = resources["nbgrader"]
            autograded = Path(resources["metadata"]["path"]).resolve()  # autograded/<student>/<assignment>
            student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        except (KeyError, TypeError):
            return None
        if coursedir is not None:
            root = Path(coursedir.root).resolve()

            def folder(step: str, who: str) -> Path:
                return Path(os.path.normpath(coursedir.format_path(step, who, assignment)))

            source_nb = folder(coursedir.source_directory, ".") / f"{notebook}.ipynb"
            release_nb = folder(coursedir.release_directory, ".") / f"{notebook}.ipynb"
            submitted = folder(coursedir.submitted_directory, student)
        else:
            layout = CourseLayout.of_autograded(autograded)
            root = layout.root
            source_nb = layout.source_notebook(assignment, notebook)
            release_nb = layout.release_notebook(assignment, notebook)
            submitted = layout.submitted(student, assignment)
        return cls(
            source_nb=source_nb,
            release_nb=release_nb,
            secret=course_secret(root),
            context=f"{assignment}/{notebook}",
            submission_folder=submitted,
            record=autograded / f"{notebook}{RECORD_SUFFIX}",
            record_names=(student, assignment, notebook),
            student=student,
            db_url=info.get("db_url"),
            language=CourseLayout(root).language,
            hide=[root] + ([Path(exchange_root)] if exchange_root else []),
        )
