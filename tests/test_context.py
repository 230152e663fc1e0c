"""grading/context.py: under nbgrader's autograde the context of a notebook comes from nbgrader's resources and
names the course's folders (through CourseLayout)."""

from __future__ import annotations

from pathlib import Path

from grader_utils.grading.context import GradingContext
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.secret import course_secret


def test_the_context_of_nbgraders_autograde(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_COURSE_SECRET_FILE", raising=False)
    layout = CourseLayout(tmp_path)
    resources = {
        "nbgrader": {"student": "ann", "assignment": "01_a", "notebook": "nb", "db_url": "sqlite:///g.db"},
        "metadata": {"path": str(layout.autograded("ann", "01_a"))},
    }
    ctx = GradingContext.from_nbgrader(resources)
    assert ctx is not None
    assert ctx.source_nb == layout.source_notebook("01_a", "nb")
    assert ctx.release_nb == layout.release_notebook("01_a", "nb")
    assert ctx.submission_folder == layout.submitted("ann", "01_a")
    assert ctx.record == layout.record("ann", "01_a", "nb")
    assert ctx.record_names == ("ann", "01_a", "nb") and ctx.context == "01_a/nb" and ctx.db_url == "sqlite:///g.db"
    assert ctx.secret == course_secret(layout.root) and ctx.results == []


def test_resources_that_are_not_nbgraders_give_no_context():
    assert GradingContext.from_nbgrader({}) is None
    assert GradingContext.from_nbgrader({"nbgrader": {"student": "ann"}, "metadata": {"path": "/x"}}) is None
    assert GradingContext.from_nbgrader(None) is None


def test_the_context_follows_nbgraders_course_directory(tmp_path, monkeypatch):
    """Under nbgrader, the course is the one nbgrader's CourseDirectory names (its root and folder names, from
    the config), not a folder guessed from where this package is installed; the course and its exchange are
    hidden from the student's kernel, and the course secret is made in that course."""
    from nbgrader.coursedir import CourseDirectory

    monkeypatch.delenv("CNN_COURSE_SECRET_FILE", raising=False)
    root = tmp_path / "other-course"
    coursedir = CourseDirectory(root=str(root), source_directory="instructor", submitted_directory="inbox")
    autograded = root / "autograded" / "ann" / "ps1"
    resources = {
        "nbgrader": {"student": "ann", "assignment": "ps1", "notebook": "nb", "db_url": "sqlite:///g.db"},
        "metadata": {"path": str(autograded)},
    }
    ctx = GradingContext.from_nbgrader(resources, coursedir, exchange_root=str(tmp_path / "exchange"))
    assert ctx is not None
    assert ctx.source_nb == root / "instructor" / "ps1" / "nb.ipynb"
    assert ctx.release_nb == root / "release" / "ps1" / "nb.ipynb"
    assert ctx.submission_folder == root / "inbox" / "ann" / "ps1"
    assert ctx.record == autograded / "nb.grading.json"
    assert ctx.hide == [root, tmp_path / "exchange"]
    assert (root / ".grading-secret").exists() and ctx.secret == course_secret(root)
    import grader_utils

    package = Path(grader_utils.__file__).resolve().parent
    assert not any(h == package.parent or h in package.parents for h in ctx.hide)


def test_the_autograde_preprocessor_finds_nbgraders_course_directory(tmp_path):
    """SandboxedExecute, registered by nbgrader's Autograde converter, reaches the converter's CourseDirectory
    and the config's exchange (what GradingContext.from_nbgrader is given)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from grader_utils.grading.graded_run import SandboxedExecute, _coursedir, _exchange_root

    config = Config()
    config.Exchange.root = str(tmp_path / "exchange")
    coursedir = CourseDirectory(config=config, root=str(tmp_path))
    api = NbGraderAPI(coursedir=coursedir, config=config)
    app = Autograde(coursedir=coursedir, parent=api)
    app.exporter = app.exporter_class(parent=app, config=app.config)
    app.exporter.register_preprocessor(SandboxedExecute)
    pp = next(p for p in app.exporter._preprocessors if isinstance(p, SandboxedExecute))
    assert _coursedir(pp) is coursedir and _exchange_root(pp) == str(tmp_path / "exchange")
    assert _coursedir(SandboxedExecute()) is None and _exchange_root(SandboxedExecute()) is None
