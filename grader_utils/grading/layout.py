"""The course directory: where everything is, and which gradebook it uses.

One :class:`CourseLayout` answers for every command and module (the engine, the pipeline, the
report, the demo builder, the exports): the folders nbgrader uses (``source/``, ``release/``,
``submitted/``, ``autograded/``, ``feedback/``), the assignments, the course's
``nbgrader_config.py`` and the gradebook URL (an explicit URL, else the config's
``CourseDirectory.db_url``, else ``gradebook.db`` in the course directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CourseLayout", "course_db_url", "load_course_config"]


def load_course_config(root: Path) -> Any:
    """The course's ``nbgrader_config.py`` as a traitlets ``Config`` (empty when there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(root) / "nbgrader_config.py"
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
    def db_url(self) -> str:
        """The gradebook: the explicit URL, else ``CourseDirectory.db_url`` of the course's config,
        else ``sqlite:///<root>/gradebook.db`` (normalized, see :func:`_normalized`)."""
        url = self.explicit_db_url
        if url is None:
            url = (
                load_course_config(self.root).CourseDirectory.get("db_url") or f"sqlite:///{self.root / 'gradebook.db'}"
            )
        return _normalized(url)

    def assignments(self) -> list[str]:
        """Every assignment: the folders of ``source/``, sorted."""
        return (
            sorted(p.name for p in (self.root / "source").iterdir() if p.is_dir())
            if (self.root / "source").is_dir()
            else []
        )

    def source(self, assignment: str) -> Path:
        return self.root / "source" / assignment

    def source_notebooks(self, assignment: str) -> list[Path]:
        """The instructor's notebooks of ``assignment``, sorted."""
        return sorted(self.source(assignment).glob("*.ipynb"))

    def release(self, assignment: str) -> Path:
        return self.root / "release" / assignment

    def submitted(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment

    def autograded(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment

    def feedback(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment

    def students(self, assignment: str, only: list[str] | None = None) -> list[str]:
        """Students with a folder ``submitted/<student>/<assignment>/``, sorted (those in ``only``, if given)."""
        wanted = set(only or [])
        found = sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{assignment}") if p.is_dir())
        return [s for s in found if not wanted or s in wanted]


def course_db_url(root: Path, db_url: str | None = None) -> str:
    """The gradebook URL of the course in ``root`` (``db_url`` overrides its config): :attr:`CourseLayout.db_url`."""
    return CourseLayout(Path(root), db_url).db_url
