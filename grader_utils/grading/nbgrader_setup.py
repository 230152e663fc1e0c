"""The few lines of an ``nbgrader_config.py`` that make nbgrader grade with this grader, in any course.

::

    # nbgrader_config.py of any nbgrader course (after `pip install` of this package into the course's
    # virtualenv, and Debian's `bubblewrap`)
    c = get_config()
    c.CourseDirectory.course_id = "my-course"

    import grader_utils
    grader_utils.nbgrader_setup(c)

:func:`nbgrader_setup` sets, in the configuration ``c``:

* ``Autograde.autograde_preprocessors``: nbgrader's own list with :class:`graded_run.SandboxedExecute` in
  place of ``Execute``: each submission's kernel runs in the bubblewrap sandbox, the course directory and
  the exchange hidden from it, and test cells are judged in the grading process, never in the student's
  kernel. ``nbgrader autograde``, the formgrader's Autograde button and ``cnn-course grade`` then all grade
  this way. Cells graded by hand (written answers, code answers worth points, ``task`` cells) keep
  nbgrader's own treatment: the formgrader's manual-grading queue.
* ``ExportApp.plugin_class``: ``nbgrader export`` writes nbgrader's CSV columns with every cell inert in a
  spreadsheet (:class:`grader_utils.exporters.GradesCsvExporter`: a roster value such as ``=HYPERLINK(...)``
  is not a formula; nbgrader's own plugin writes it verbatim).
* ``HTMLExporter.preprocessors`` and ``GenerateFeedback.exporter_class``: feedback that never shows hidden
  tests (:mod:`nbgrader_plugins`) and runs no script (:mod:`inert_feedback`), also in the formgrader's
  view of a submission.

The course's folders, gradebook and exchange are nbgrader's (``CourseDirectory``, ``Exchange``): nothing
here names a folder. Everything else stays the course's own choice (``Execute.timeout``,
``OverwriteCells.add_missing_cells``, ...). docs/any-course.md is the instructor's page.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "nbgrader_setup",
    "AUTOGRADE_PREPROCESSORS",
    "FEEDBACK_PREPROCESSORS",
    "FEEDBACK_EXPORTER",
    "GRADES_EXPORTER",
]

#: nbgrader's autograde preprocessors (``nbgrader.converters.autograde.Autograde``) with the sandboxed run
#: in place of ``Execute``, as dotted names (resolved by nbconvert when nbgrader registers them)
AUTOGRADE_PREPROCESSORS = [
    "grader_utils.grading.graded_run.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
#: what every HTML view of a submission runs (generate_feedback, the formgrader's manual-grading page)
FEEDBACK_PREPROCESSORS = [
    "grader_utils.grading.nbgrader_plugins.HideHiddenTests",
    "grader_utils.grading.inert_feedback.InertOutputs",
]
#: generate_feedback's exporter: the inert page (a Content-Security-Policy, sanitized HTML)
FEEDBACK_EXPORTER = "grader_utils.grading.inert_feedback.InertFeedbackExporter"
#: ``nbgrader export``'s default plugin: nbgrader's CSV columns, inert in a spreadsheet
GRADES_EXPORTER = "grader_utils.exporters.GradesCsvExporter"


def nbgrader_setup(c: Any) -> Any:
    """Make nbgrader grade with this grader: set the autograde preprocessors, the feedback's exporter
    and preprocessors and the grade export's plugin in ``c`` (the ``get_config()`` of an
    ``nbgrader_config.py``); returns ``c``."""
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
    c.HTMLExporter.preprocessors = list(FEEDBACK_PREPROCESSORS)
    c.GenerateFeedback.exporter_class = FEEDBACK_EXPORTER
    c.ExportApp.plugin_class = GRADES_EXPORTER
    return c
