"""Keep TensorFlow's start-up chatter off stderr.

nbgrader scores a test cell 0 when anything reaches stderr, and TensorFlow's C++
runtime writes several log lines straight to file descriptor 2 when it is first
imported and when it first looks for devices. ``TF_CPP_MIN_LOG_LEVEL`` does not
catch all of them (some are written before absl's logging is initialised), so
we point file descriptor 2 at ``/dev/null`` for exactly those moments.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType

__all__ = ["silenced_stderr", "quiet_tensorflow"]


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Discard everything written to stderr (Python's and fd 2) inside the block.

    Exceptions still propagate: only their *printing* by other code is hidden.
    """
    sys.stderr.flush()
    saved_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved_stderr = sys.stderr
    try:
        os.dup2(devnull, 2)
        sys.stderr = io.StringIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        try:
            sys.stderr.flush()
        finally:
            sys.stderr = saved_stderr
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            os.close(devnull)


_KERAS: ModuleType | None = None


def quiet_tensorflow() -> ModuleType:
    """Import TensorFlow and Keras once, silently, and return the ``keras`` module.

    After this call ``import keras`` and ``import tensorflow`` are cached and
    print nothing. It also runs one tiny operation so that the device
    look-up (which logs a CUDA message on machines without a GPU) happens here.
    """
    global _KERAS
    if _KERAS is not None:
        return _KERAS
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with silenced_stderr():
        import keras
        import tensorflow as tf  # noqa: F401  (imported for its side effects)

        tf.get_logger().setLevel("ERROR")
        keras.ops.convert_to_numpy(keras.ops.add(1.0, 1.0))
    _KERAS = keras
    return keras
