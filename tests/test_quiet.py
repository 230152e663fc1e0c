"""grader_utils.quiet: nothing reaches stderr inside ``silenced_stderr``, both stderr channels
come back afterwards, and ``quiet_tensorflow`` keeps TensorFlow's start-up lines off stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from conftest import ROOT
from grader_utils import silenced_stderr


def fd2_identity() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_silenced_stderr_hides_fd2_and_sys_stderr_and_restores_both(capfd):
    capfd.readouterr()
    before_obj, before_fd = sys.stderr, fd2_identity()
    print("before", file=sys.stderr, flush=True)
    with silenced_stderr():
        os.write(2, b"raw fd 2 write\n")
        sys.stderr.write("python stderr write\n")
        print("print to stderr", file=sys.stderr)
        sys.stdout.write("stdout is untouched\n")
    sys.stdout.flush()
    assert sys.stderr is before_obj
    assert fd2_identity() == before_fd
    os.write(2, b"after fd\n")
    print("after py", file=sys.stderr, flush=True)
    out, err = capfd.readouterr()
    assert err == "before\nafter fd\nafter py\n"
    assert out == "stdout is untouched\n"


def test_silenced_stderr_hides_output_of_a_child_process(capfd):
    """A C library writing to fd 2 is what TensorFlow does; a child process inherits fd 2."""
    capfd.readouterr()
    with silenced_stderr():
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'child\\n')"], check=True)
    subprocess.run([sys.executable, "-c", "import os; os.write(2, b'child after\\n')"], check=True)
    assert capfd.readouterr().err == "child after\n"


def test_silenced_stderr_restores_after_an_exception_and_lets_it_propagate(capfd):
    capfd.readouterr()
    before_obj, before_fd = sys.stderr, fd2_identity()
    with pytest.raises(RuntimeError, match="boom"), silenced_stderr():
        os.write(2, b"hidden\n")
        raise RuntimeError("boom")
    assert sys.stderr is before_obj and fd2_identity() == before_fd
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"


def test_silenced_stderr_hides_warnings_inside_only():
    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with silenced_stderr():
            warnings.warn("hidden warning", UserWarning, stacklevel=1)
        warnings.warn("visible warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["visible warning"]
    assert warnings.filters == filters_before


def test_silenced_stderr_nests(capfd):
    capfd.readouterr()
    before_fd = fd2_identity()
    with silenced_stderr():
        with silenced_stderr():
            os.write(2, b"inner\n")
        os.write(2, b"outer\n")
    assert fd2_identity() == before_fd
    os.write(2, b"out\n")
    assert capfd.readouterr().err == "out\n"


def test_silenced_stderr_does_not_leak_file_descriptors():
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    with silenced_stderr():
        pass
    before = open_fds()
    for _ in range(20):
        with silenced_stderr():
            pass
    assert open_fds() == before


# --- TensorFlow in fresh processes ----------------------------------------------------------------


def fresh_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter of the venv, without any inherited TensorFlow log settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS", "KERAS_BACKEND")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.keras
def test_plain_tensorflow_import_writes_to_stderr():
    """The premise of the quiet module (and what makes the next test able to fail)."""
    proc = fresh_python("import tensorflow")
    assert proc.returncode == 0
    assert proc.stderr.strip() != ""


@pytest.mark.keras
def test_quiet_tensorflow_then_keras_layers_leave_stderr_empty():
    proc = fresh_python("""
        from grader_utils import quiet_tensorflow
        returned = quiet_tensorflow()
        import keras
        import numpy as np
        import tensorflow as tf
        assert returned is keras
        assert quiet_tensorflow() is keras
        x = np.random.default_rng(0).normal(size=(1, 9, 8, 3)).astype("float32")
        y = keras.layers.Conv2D(4, 3, strides=2, padding="same")(x)
        y = keras.layers.MaxPooling2D(2, padding="same")(y)
        y = keras.layers.AveragePooling2D(2)(keras.layers.Dense(5)(y))
        model = keras.Sequential([keras.Input((9, 8, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                                  keras.layers.Dense(3)])
        model.predict(x, verbose=0)
        print(tuple(y.shape), float(tf.reduce_sum(tf.ones(3))))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(1, 1, 1, 5) 3.0"
    assert proc.stderr == ""
