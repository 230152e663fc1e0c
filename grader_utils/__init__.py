"""grader_utils: the checks behind the CNN course's notebooks.

Every expected answer comes from TensorFlow/Keras (:mod:`grader_utils.truth`);
answers are compared by one comparator (:mod:`grader_utils.compare`); wrong
answers get a likely cause (:mod:`grader_utils.feedback`); the notebooks' test
cells call :mod:`grader_utils.checks`.

Importing this package does not import TensorFlow; :func:`quiet_tensorflow`
does, without TensorFlow's start-up lines on stderr.
"""

from .quiet import quiet_tensorflow, silenced_stderr

__all__ = ["quiet_tensorflow", "silenced_stderr"]
__version__ = "0.1.0"
