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
"""

from .quiet import quiet_tensorflow, silenced_stderr

__all__ = ["quiet_tensorflow", "silenced_stderr"]
__version__ = "0.1.0"
