"""grading/context.py: under nbgrader's autograde the context of a notebook comes from nbgrader's resources and
names the course's folders (through CourseLayout)."""

from __future__ import annotations

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
