"""grader_utils: the checks behind the CNN course's notebooks.

The top level is what the notebooks import: :mod:`.checks` and :mod:`.model_checks` (the test
cells' checks), :mod:`.figures`, :mod:`.datasets` and :mod:`.quiet`. The rest is grouped by role
(docs/architecture.md):

- :mod:`.judge`: the judging core, pure functions over plain data: Keras' ground truth
  (:mod:`.judge.truth`), case suites, the one tolerant comparator (:mod:`.judge.compare`), likely
  causes (:mod:`.judge.hints` and the ``*_feedback`` modules), verdicts, and the exercise registry
  (:mod:`.judge.registry`);
- :mod:`.sandbox`: what runs next to student code (bubblewrap, sandboxed kernels, the NumPy-only
  lock, the probe that makes one call) and nothing that judges;
- :mod:`.grading`: the trusted engine (plan, run in the sandbox, judge, records) and nbgrader's
  autograde hooked to it;
- :mod:`.instructor`: the ``cnn-course`` command line, parallel grading, gradebook, exports,
  class report, demo class, the hub's exchange.

Importing this package does not import TensorFlow; :func:`quiet_tensorflow` does, without
TensorFlow's start-up lines on stderr.

:func:`nbgrader_setup` is what an ``nbgrader_config.py`` calls to grade with this grader (this course's or
any other nbgrader course's: docs/any-course.md).
"""

from typing import Any

from .quiet import quiet_tensorflow, silenced_stderr

__all__ = ["quiet_tensorflow", "silenced_stderr", "nbgrader_setup"]


def nbgrader_setup(c: Any) -> Any:
    """Make nbgrader grade with this grader (``grader_utils.nbgrader_setup(c)`` in ``nbgrader_config.py``):
    see :mod:`grader_utils.grading.nbgrader_setup`. Imported only when called (a graded kernel imports this
    package but cannot import the grading side)."""
    from .grading.nbgrader_setup import nbgrader_setup as setup

    return setup(c)


__version__ = "0.1.0"
