"""The course directory: where everything is, and which gradebook it uses.

One :class:`CourseLayout` answers for every command and module (the engine, the pipeline, the
report, the demo builder, the exports): the folders nbgrader uses (``source/``, ``release/``,
``submitted/``, ``autograded/``, ``feedback/``), the assignments, the course's
``nbgrader_config.py``, its language (an edition's, ``editions/<language>/``) and the gradebook URL (an
explicit URL, else the config's ``CourseDirectory.db_url``, else ``gradebook.db`` in the course directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CourseLayout", "RECORD_SUFFIX", "course_db_url", "load_course_config"]

#: the file ending of the engine's record of a notebook (``<notebook>.grading.json``)
RECORD_SUFFIX = ".grading.json"


def load_course_config(root: Path) -> Any:
    """The course's ``nbgrader_config.py`` as a traitlets ``Config`` (empty when there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = CourseLayout(Path(root)).config_file
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config() if path.exists() else Config()


def _normalized(db_url: str) -> str:
    """A SQLite URL gets a 60-second busy timeout (parallel writers); a plain ``postgresql://`` URL the
    installed driver psycopg2 (``postgresql+psycopg2://``; SQLAlchemy 2.1 would pick psycopg 3)."""
    if db_url.startswith("sqlite") and "?" not in db_url:
        db_url += "?timeout=60"
    scheme, _, rest = db_url.partition("://")
    if scheme in ("postgresql", "postgres"):
        db_url = "postgresql+psycopg2://" + rest
    return db_url


@dataclass(frozen=True)
class CourseLayout:
    """A course directory (``root``) and, when given, the gradebook URL that overrides its config."""

    root: Path
    explicit_db_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())

    @property
    def gradebook_file(self) -> Path:
        """``gradebook.db``: the SQLite gradebook used when neither an explicit URL nor the config names one."""
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        """The gradebook: the explicit URL, else ``CourseDirectory.db_url`` of the course's config,
        else ``sqlite:///<root>/gradebook.db`` (normalized, see :func:`_normalized`)."""
        url = self.explicit_db_url
        if url is None:
            url = load_course_config(self.root).CourseDirectory.get("db_url") or f"sqlite:///{self.gradebook_file}"
        return _normalized(url)

    @property
    def language(self) -> str:
        """The language of the course's edition (``c.CourseEdition.language`` in its ``nbgrader_config.py``):
        what the grader's messages to students are written in; ``"en"`` when the config names none (the English
        course) or cannot be read (grading then fails on the config itself). Explicit, so that nothing of the
        grading process's own environment can choose it."""
        try:
            value = load_course_config(self.root).CourseEdition.get("language")
        except Exception:  # noqa: BLE001
            value = None
        return str(value) if value else "en"

    # the folders: the one place that names them (tests/test_layout.py fails on a path built elsewhere)
    @property
    def source_dir(self) -> Path:
        """``source/``: the instructor's notebooks (solutions, hidden tests), a folder per assignment."""
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        """``release/``: the student versions, a folder per assignment."""
        return self.root / "release"

    @property
    def submitted_dir(self) -> Path:
        """``submitted/``: ``<student>/<assignment>/`` per submission."""
        return self.root / "submitted"

    @property
    def autograded_dir(self) -> Path:
        """``autograded/``: ``<student>/<assignment>/`` per graded submission (notebooks and records)."""
        return self.root / "autograded"

    @property
    def feedback_dir(self) -> Path:
        """``feedback/``: ``<student>/<assignment>/`` per submission's feedback HTML."""
        return self.root / "feedback"

    @property
    def config_file(self) -> Path:
        """``nbgrader_config.py``: the course's nbgrader configuration."""
        return self.root / "nbgrader_config.py"

    @property
    def editions_dir(self) -> Path:
        """``editions/``: the course in other languages, a course directory per language."""
        return self.root / "editions"

    def edition(self, language: str) -> CourseLayout:
        """The course directory of the ``language`` edition: ``editions/<language>/``."""
        return CourseLayout(self.editions_dir / language)

    def lesson_catalog(self, language: str, assignment: str, notebook: str) -> Path:
        """The translations of a notebook's Markdown: ``editions/<language>/locale/<assignment>/<notebook>.po``."""
        return self.editions_dir / language / "locale" / assignment / f"{notebook}.po"

    @property
    def demo_dir(self) -> Path:
        """``demo/``: the demo students' answers (``<assignment>/<student>.py``) and their roster."""
        return self.root / "demo"

    @property
    def demo_roster(self) -> Path:
        """``demo/students.csv``: the demo class's roster."""
        return self.demo_dir / "students.csv"

    def assignments(self) -> list[str]:
        """Every assignment: the folders of ``source/``, sorted."""
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir()) if self.source_dir.is_dir() else []

    def source(self, assignment: str) -> Path:
        """``source/<assignment>/``."""
        return self.source_dir / assignment

    def source_notebook(self, assignment: str, notebook: str) -> Path:
        """``source/<assignment>/<notebook>.ipynb`` (``notebook`` without ``.ipynb``)."""
        return self.source(assignment) / f"{notebook}.ipynb"

    def source_notebooks(self, assignment: str) -> list[Path]:
        """The instructor's notebooks of ``assignment``, sorted."""
        return sorted(self.source(assignment).glob("*.ipynb"))

    def release(self, assignment: str) -> Path:
        """``release/<assignment>/``."""
        return self.release_dir / assignment

    def release_notebook(self, assignment: str, notebook: str) -> Path:
        """``release/<assignment>/<notebook>.ipynb`` (``notebook`` without ``.ipynb``)."""
        return self.release(assignment) / f"{notebook}.ipynb"

    def release_notebooks(self, assignment: str) -> list[Path]:
        """The student versions of ``assignment``'s notebooks, sorted."""
        return sorted(self.release(assignment).glob("*.ipynb"))

    def submitted(self, student: str, assignment: str) -> Path:
        """``submitted/<student>/<assignment>/``."""
        return self.submitted_dir / student / assignment

    def autograded(self, student: str, assignment: str) -> Path:
        """``autograded/<student>/<assignment>/``."""
        return self.autograded_dir / student / assignment

    def record(self, student: str, assignment: str, notebook: str) -> Path:
        """The engine's record of one notebook: ``autograded/<student>/<assignment>/<notebook>.grading.json``."""
        return self.autograded(student, assignment) / f"{notebook}{RECORD_SUFFIX}"

    def records(self, assignment: str) -> list[Path]:
        """Every record of ``assignment`` on disk (all students), sorted."""
        return sorted(self.autograded_dir.glob(f"*/{assignment}/*{RECORD_SUFFIX}"))

    def feedback(self, student: str, assignment: str) -> Path:
        """``feedback/<student>/<assignment>/``."""
        return self.feedback_dir / student / assignment

    def report(self, assignment: str) -> Path:
        """Where ``cnn-course report`` writes by default: ``reports/<assignment>.html``."""
        return self.root / "reports" / f"{assignment}.html"

    def export_file(self, fmt: str) -> Path:
        """Where ``cnn-course export`` writes by default: ``grades-<format>.csv``."""
        return self.root / f"grades-{fmt}.csv"

    def students(self, assignment: str, only: list[str] | None = None) -> list[str]:
        """Students with a folder ``submitted/<student>/<assignment>/``, sorted (those in ``only``, if given)."""
        wanted = set(only or [])
        found = sorted(p.parent.name for p in self.submitted_dir.glob(f"*/{assignment}") if p.is_dir())
        return [s for s in found if not wanted or s in wanted]

    @classmethod
    def of_autograded(cls, autograded: Path) -> CourseLayout:
        """The course of an ``autograded/<student>/<assignment>/`` folder (nbgrader's resources name it)."""
        return cls(Path(autograded).resolve().parents[2])


def course_db_url(root: Path, db_url: str | None = None) -> str:
    """The gradebook URL of the course in ``root`` (``db_url`` overrides its config): :attr:`CourseLayout.db_url`."""
    return CourseLayout(Path(root), db_url).db_url
