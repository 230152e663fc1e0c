"""The NumPy-only check sees TensorFlow, Keras and SciPy doing the work, however they are
reached, and lets plain NumPy (loops, einsum, sliding_window_view) through."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from grader_utils import quiet_tensorflow
from grader_utils.sandbox.numpy_only import call_numpy_only

pytestmark = pytest.mark.keras

X = np.arange(16, dtype=np.float32).reshape(4, 4)
K = np.ones((2, 2), dtype=np.float32)


@pytest.fixture(scope="module", autouse=True)
def tf_loaded():
    quiet_tensorflow()
    import scipy.signal  # noqa: F401  (loaded, as a student's earlier cell would)


def loops(x, k):
    out = np.zeros((3, 3), np.float32)
    for i in range(3):
        for j in range(3):
            out[i, j] = np.sum(x[i : i + 2, j : j + 2] * k)
    return out


def windows(x, k):
    return np.einsum("ijab,ab->ij", np.lib.stride_tricks.sliding_window_view(x, (2, 2)), k)


def via_import(x, k):
    import scipy.signal as s

    return s.correlate2d(x, k, mode="valid")


def via_dunder_import(x, k):
    return __import__("scipy.signal", fromlist=["x"]).correlate2d(x, k, mode="valid")


def via_importlib(x, k):
    tf = importlib.import_module("tensor" + "flow")
    return tf.nn.conv2d(x[None, :, :, None], k[:, :, None, None], 1, "VALID").numpy()[0, :, :, 0]


def via_sys_modules(x, k):
    return sys.modules["ker" + "as"].ops.conv(x[None, :, :, None], k[:, :, None, None])


CAPTURED = None


def via_captured(x, k):
    return CAPTURED(x, k, mode="valid")


def switches_check_off(x, k):
    sys.setprofile(None)
    return loops(x, k)


@pytest.mark.parametrize("func", [loops, windows])
def test_numpy_answers_are_clean(func):
    result, report = call_numpy_only(func, X, K)
    assert report.clean, report.used
    assert np.array_equal(result, loops(X, K))


@pytest.mark.parametrize(
    "func,package",
    [
        (via_import, "scipy"),
        (via_dunder_import, "scipy"),
        (via_importlib, "tensorflow"),
        (via_sys_modules, "keras"),
        (via_captured, "scipy"),
    ],
)
def test_forbidden_libraries_are_seen_however_reached(func, package):
    global CAPTURED
    import scipy.signal

    CAPTURED = scipy.signal.correlate2d
    _, report = call_numpy_only(func, X, K)
    assert package in report.used, report.used
    assert not report.clean and package in report.message("correlate2d")


def test_switching_the_check_off_is_caught_and_the_hook_is_restored():
    before = sys.getprofile()
    _, report = call_numpy_only(switches_check_off, X, K)
    assert report.tampered and "switched off" in report.message("f")
    assert sys.getprofile() is before


def test_exceptions_propagate_with_the_report():
    def boom(x, k):
        import scipy.signal

        scipy.signal.correlate2d(x, k)
        raise ValueError("student bug")

    with pytest.raises(ValueError, match="student bug") as info:
        call_numpy_only(boom, X, K)
    assert "scipy" in info.value.numpy_only_report.used
    assert sys.getprofile() is None


def test_garbage_from_earlier_cells_is_not_blamed():
    """A TensorFlow object collected during the student's call must not count against it."""
    import gc

    import tensorflow as tf

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            tf.constant(1.0)  # TensorFlow code run by a finalizer

    gc.collect()
    for _ in range(50):
        Cycle()
    _, report = call_numpy_only(lambda: [[i] for i in range(20000)])  # triggers collections
    gc.collect()
    assert report.clean, report.used


def test_call_counting_tells_loops_from_vectorized_code():
    x = np.ones((40, 40), np.float32)

    def pixel_loop(x):
        return np.array([[x[i : i + 2, j : j + 2].sum() for j in range(39)] for i in range(39)])

    _, loop_report = call_numpy_only(pixel_loop, x)
    _, fast_report = call_numpy_only(lambda x: np.lib.stride_tricks.sliding_window_view(x, (2, 2)).sum((2, 3)), x)
    assert loop_report.calls > 39 * 39 > 10 * fast_report.calls


def test_the_course_ground_truth_counts_as_keras_even_when_remembered():
    """truth remembers Keras' answers; calling it must still count as Keras doing the work."""
    from grader_utils.judge import truth

    x = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    truth.max_pool2d(x, 2)  # now remembered: no TensorFlow code runs on the next call
    _, report = call_numpy_only(truth.max_pool2d, x, 2)
    assert not report.clean and any("grader_utils" in p for p in report.used), report.used
