"""NumPy-only by allow-list (grader_utils/native_lock.py).

Engine level: submissions of notebook 02 whose ``max_pool2d`` gets its answer from native code
other than NumPy's (Pillow, a C extension shipped base64-encoded in the notebook and loaded with
ctypes or importlib, a compiled package of the Python outside the virtualenv, another program)
score 0, with a reason naming what ran; honest NumPy answers keep full marks. Without the lock
(today's deny-list) every one of these attacks earns full marks.

Unit level: the lock itself, in a plain subprocess (no bubblewrap). The lock refuses to lock
as root (root can rewrite its own code through /proc/self/mem), so when the tests run as root
the subprocess runs as ``nobody`` keeping only CAP_DAC_READ_SEARCH (to read the Python under
/root), which grants no write access.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, assignments

C_POOL = r"""
#include <math.h>
void maxpool(const float *x, int h, int w, int c, int ph, int pw, int sh, int sw,
             int top, int left, int oh, int ow, float *out) {
    for (int i = 0; i < oh; i++) for (int j = 0; j < ow; j++) for (int k = 0; k < c; k++) {
        float m = -INFINITY;
        for (int a = 0; a < ph; a++) for (int b = 0; b < pw; b++) {
            int r = i * sh - top + a, q = j * sw - left + b;
            if (r >= 0 && r < h && q >= 0 && q < w && x[(r * w + q) * c + k] > m) m = x[(r * w + q) * c + k];
        }
        out[(i * ow + j) * c + k] = m;
    }
}
"""

C_EXTENSION = (
    C_POOL
    + r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *pool(PyObject *self, PyObject *args) {
    const char *x; Py_ssize_t n; int h, w, c, ph, pw, sh, sw, top, left, oh, ow;
    if (!PyArg_ParseTuple(args, "y#iiiiiiiiiii", &x, &n, &h, &w, &c, &ph, &pw, &sh, &sw, &top, &left, &oh, &ow))
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)oh * ow * c * sizeof(float));
    if (out) maxpool((const float *)x, h, w, c, ph, pw, sh, sw, top, left, oh, ow, (float *)PyBytes_AS_STRING(out));
    return out;
}
static PyMethodDef methods[] = {{"maxpool", pool, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "mpext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_mpext(void) { return PyModule_Create(&mod); }
"""
)

# the geometry of Keras' pooling, then the native code computes every window
GEOMETRY = """
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        top, left = max((oh - 1) * sh + ph - h, 0) // 2, max((ow - 1) * sw + pw - w, 0) // 2
    else:
        oh, ow, top, left = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    x = np.ascontiguousarray(x, dtype=np.float32)
"""


def _max_pool(body: str, before: str = "") -> str:
    return (
        before
        + "\ndef max_pool2d(x, pool_size, strides=None, padding='valid'):\n"
        + GEOMETRY.strip("\n")
        + "\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


def _compile(tmp: Path, source: str, name: str, python: bool) -> bytes:
    if not shutil.which("cc"):
        pytest.skip("no C compiler (cc) here")
    c_file = tmp / f"{name}.c"
    c_file.write_text(source)
    so = tmp / f"{name}.so"
    include = ["-I" + sysconfig.get_paths()["include"]] if python else []
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", *include, str(c_file), "-o", str(so)], check=True)
    return so.read_bytes()


@pytest.fixture(scope="module")
def native_code(tmp_path_factory) -> dict[str, str]:
    """The two compiled libraries, base64-encoded as a notebook would carry them."""
    tmp = tmp_path_factory.mktemp("native")
    return {
        "ctypes": base64.b64encode(_compile(tmp, C_POOL, "pool", False)).decode(),
        "extension": base64.b64encode(_compile(tmp, C_EXTENSION, "mpext", True)).decode(),
    }


def outside_packages() -> tuple[str, str] | None:
    """(folder, package) of a compiled package importable here from outside the virtualenv (the
    base Python's site-packages, Debian's dist-packages), SciPy when there is one; None if none."""
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    minor = f"python3.{sys.version_info.minor}"
    folders = [
        base["platlib"],
        base["purelib"],
        "/usr/lib/python3/dist-packages",
        f"/usr/lib/{minor}/site-packages",
        f"/usr/local/lib/{minor}/dist-packages",
        f"/usr/local/lib/{minor}/site-packages",
    ]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    found: list[tuple[str, str]] = []
    for folder in dict.fromkeys(folders):
        path = Path(folder)
        if not path.is_dir() or Path(sys.prefix).resolve() in path.resolve().parents:
            continue
        if (path / "scipy" / "__init__.py").exists() and any((path / "scipy").rglob("*" + suffix)):
            return str(path), "scipy"
        found += [(str(path), e.name[: -len(suffix)]) for e in sorted(path.iterdir()) if e.name.endswith(suffix)]
    return found[0] if found else None


# ------------------------------------------------------------------------------------------------
# engine level: graded in the real sandbox


def _attacks(native: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """name -> (answer cell, words the reason must contain: what ran)."""
    ext = sysconfig.get_config_var("EXT_SUFFIX")
    attacks = {
        "Pillow computes the windows": (
            _max_pool(
                """
            out = np.empty((oh, ow, c), np.float32)
            for k in range(c):  # Pillow takes the max of the shifted images (ImageMath's max)
                img = np.full((oh * sh + ph + h, ow * sw + pw + w), -np.inf, np.float32)
                img[top:top + h, left:left + w] = x[:, :, k]
                acc = None
                for a in range(ph):
                    for b in range(pw):
                        part = Image.fromarray(np.ascontiguousarray(img[a:a + oh * sh:sh, b:b + ow * sw:sw]))
                        acc = part if acc is None else ImageMath.lambda_eval(lambda e: e["max"](e["a"], e["b"]),
                                                                             a=acc, b=part)
                out[:, :, k] = np.asarray(acc)
            return out""",
                "from PIL import Image, ImageMath\n",
            ),
            ["PIL", "compiled code"],
        ),
        "C library in the notebook, loaded with ctypes": (
            _max_pool(
                """
            global LIB
            if isinstance(LIB, str):  # written once, at run time, into the working folder
                path = os.path.abspath("pool.so")
                with open(path, "wb") as f:
                    f.write(base64.b64decode(LIB))
                LIB = ctypes.CDLL(path)
            lib = LIB
            out = np.empty((oh, ow, c), np.float32)
            p = ctypes.POINTER(ctypes.c_float)
            lib.maxpool(x.ctypes.data_as(p), *[ctypes.c_int(v) for v in (h, w, c, ph, pw, sh, sw, top, left, oh, ow)],
                        out.ctypes.data_as(p))
            return out""",
                f"import base64, ctypes, os\nLIB = {native['ctypes']!r}\n",
            ),
            ["pool.so"],
        ),
        "C extension in the notebook, loaded with importlib": (
            _max_pool(
                f"""
            global EXT
            if isinstance(EXT, str):  # written once, at run time, into the working folder
                path = os.path.abspath("mpext{ext}")
                with open(path, "wb") as f:
                    f.write(base64.b64decode(EXT))
                spec = importlib.util.spec_from_file_location("mpext", path)
                EXT = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(EXT)
            mod = EXT
            raw = mod.maxpool(x.tobytes(), h, w, c, ph, pw, sh, sw, top, left, oh, ow)
            return np.frombuffer(raw, np.float32).reshape(oh, ow, c).copy()""",
                f"import base64, importlib.util, os\nEXT = {native['extension']!r}\n",
            ),
            ["mpext", "compiled code"],
        ),
        "another Python computes it (subprocess)": (
            _max_pool(
                """
            code = ("import io, sys, numpy as np; a = np.load(io.BytesIO(sys.stdin.buffer.read())); "
                    "o, t, l, p, s = a['o'], a['t'], a['l'], a['p'], a['s']; "
                    "x = np.pad(a['x'], ((t, p[0] * o[0]), (l, p[1] * o[1]), (0, 0)), constant_values=-np.inf); "
                    "w = np.lib.stride_tricks.sliding_window_view(x, tuple(p), (0, 1)); "
                    "np.save(sys.stdout.buffer, w[::s[0], ::s[1]][:o[0], :o[1]].max(axis=(3, 4)))")
            buf = io.BytesIO()
            np.savez(buf, x=x, o=[oh, ow], t=top, l=left, p=[ph, pw], s=[sh, sw])
            run = subprocess.run([sys.executable, "-c", code], input=buf.getvalue(), capture_output=True, check=True)
            return np.load(io.BytesIO(run.stdout)).astype(np.float32)""",
                "import io, subprocess, sys\n",
            ),
            ["subprocess", sys.executable],
        ),
        "a shell command runs (os.system)": (
            """import os
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    if os.system("/bin/sh -c 'exit 3'") >> 8 != 3:
        raise RuntimeError("the shell did not run: " + str(os.system("true")))
"""
            + "\n".join(line for line in WINDOWS_BODY.splitlines()),
            ["os.system", "/bin/sh"],
        ),
    }
    outside = outside_packages()
    if outside is not None:
        folder, package = outside
        if package == "scipy":
            body = """
                import scipy.ndimage
                xp = np.full((oh * sh + ph + h, ow * sw + pw + w, c), -np.inf, np.float32)
                xp[top:top + h, left:left + w] = x
                win = np.lib.stride_tricks.sliding_window_view(xp, (ph, pw), (0, 1))[::sh, ::sw][:oh, :ow]
                flat = win.reshape(-1, ph * pw)
                labels = np.repeat(np.arange(len(flat)), ph * pw).reshape(flat.shape)
                return np.asarray(scipy.ndimage.maximum(flat, labels, np.arange(len(flat))), np.float32).reshape(
                    oh, ow, c)"""
        else:
            body = f"""
                import {package}  # compiled code from outside the virtualenv
                xp = np.full((oh * sh + ph + h, ow * sw + pw + w, c), -np.inf, np.float32)
                xp[top:top + h, left:left + w] = x
                win = np.lib.stride_tricks.sliding_window_view(xp, (ph, pw), (0, 1))[::sh, ::sw][:oh, :ow]
                return win.max(axis=(3, 4))"""
        attacks[f"{package} of the Python outside the virtualenv"] = (
            # the sandbox shows that folder empty (its allow-list of the disk), and the lock would refuse it
            _max_pool(body, f"import sys\nsys.path.insert(0, {folder!r})\n"),
            [package],
        )
    return attacks


WINDOWS_BODY = """    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    if padding == "same":
        th = max((-(-h // sh) - 1) * sh + ph - h, 0)
        tw = max((-(-w // sw) - 1) * sw + pw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return np.einsum("ijcab->ijcab", win).max(axis=(3, 4)).astype(x.dtype)
"""
HONEST = "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n" + WINDOWS_BODY

ATTACK_NAMES = [
    "Pillow computes the windows",
    "C library in the notebook, loaded with ctypes",
    "C extension in the notebook, loaded with importlib",
    "another Python computes it (subprocess)",
    "a shell command runs (os.system)",
    "outside the virtualenv",
]


def _grade(tmp: Path, answer: str, extra: str = "") -> dict[str, tuple[str, float, str]]:
    from test_engine import grade, make_submission

    return grade(make_submission(tmp, extra, answer))


@pytest.mark.sandbox
@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_native_code_other_than_numpy_scores_zero_and_is_named(name, tmp_path, native_code):
    attacks = _attacks(native_code)
    matches = [k for k in attacks if name in k]
    if not matches:
        pytest.skip("no compiled package of a Python outside the virtualenv is installed here")
    answer, named = attacks[matches[0]]
    got = _grade(tmp_path, answer)
    assert {k: v[1] for k, v in got.items()} == {k: 0.0 for k in got}, got
    for grade_id, (status, _, reason) in got.items():
        assert status == "wrong", (grade_id, status, reason)
        assert all(word in reason for word in named), (named, reason)


@pytest.mark.sandbox
def test_honest_numpy_and_matplotlib_keep_full_marks(tmp_path):
    extra = (
        "import matplotlib.pyplot as plt\nfig, axes = plt.subplots(2, 3)\nfor ax in axes.flat:\n"
        "    ax.imshow(np.eye(3))\naxes[0, 1].set_title('x')\nplt.show()"
    )
    got = _grade(tmp_path, HONEST, extra)
    assert {k: v[1] for k, v in got.items()} == {
        "max_pool2d__valid": 2.0,
        "max_pool2d__strides": 1.0,
        "max_pool2d__same": 2.0,
    }, got


def _numpy_only_exercises() -> list[tuple[str, tuple[str, ...]]]:
    """(assignment, the functions of its NumPy-only exercises) for every assignment that has some (the registry's
    ``numpy_only``, over the checks its notebooks' test cells call)."""
    from grader_utils.grading.specs import read_specs
    from grader_utils.judge.registry import ARRAY_EXERCISES

    found = []
    for assignment in assignments():
        names = {
            call.func
            for nb in (ROOT / "source" / assignment).glob("*.ipynb")
            for spec in read_specs(nb)
            for call in spec.calls
            if call.check in ARRAY_EXERCISES and ARRAY_EXERCISES[call.check].numpy_only
        }
        if names:
            found.append((assignment, tuple(sorted(names))))
    return found


@pytest.mark.sandbox
@pytest.mark.parametrize("assignment,exercises", _numpy_only_exercises())
def test_instructor_solutions_keep_full_marks_under_the_lock(assignment, exercises):
    """The instructor's notebook, submitted as is: every NumPy-only test cell earns its points."""
    from grader_utils.grading import engine, specs
    from grader_utils.sandbox.bwrap import Limits

    source = next((ROOT / "source" / assignment).glob("*.ipynb"))
    only = {s.grade_id for s in specs.read_specs(source) if s.grade_id.split("__")[0] in exercises}
    results = engine.grade_notebook(
        source,
        source,
        release_nb=ROOT / "release" / assignment / source.name,
        hide=[ROOT],
        limits=Limits(wall_seconds=300),
        only=only,
    )
    assert results and len(results) == len(only)
    bad = [(r.grade_id, r.status, r.reason) for r in results if r.status not in ("ok", "kernel")]
    assert not bad, bad


# ------------------------------------------------------------------------------------------------
# unit level: the lock in a plain subprocess


def _run_locked(
    code: str, tmp: Path, lock: str = "from grader_utils.sandbox.native_lock import lock; lock()", as_root: bool = False
) -> subprocess.CompletedProcess:
    script = tmp / "script.py"
    script.write_text(lock + "\n" + textwrap.dedent(code))
    os.chmod(tmp, 0o755)
    prefix: list[str] = []
    if os.geteuid() == 0 and not as_root:
        prefix = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
        ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "Agg",
        "HOME": str(tmp),
        "OPENBLAS_NUM_THREADS": "2",
    }
    return subprocess.run(
        [*prefix, sys.executable, str(script)], cwd=tmp, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def fresh_so(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("so")
    os.chmod(tmp, 0o755)
    _compile(tmp, C_POOL, "pool", False)
    path = tmp / "pool.so"
    os.chmod(path, 0o755)
    return path


def test_after_the_lock_numpy_and_matplotlib_still_work(tmp_path):
    run = _run_locked(
        """
        import numpy as np
        x = np.random.default_rng(0).random((6, 6, 2)).astype(np.float32)
        win = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((1, 1), (1, 1), (0, 0))), (3, 3), axis=(0, 1))
        assert np.einsum("ijcab->ijc", win).shape == (6, 6, 2)
        assert np.allclose(np.linalg.inv(np.eye(3) * 2), np.eye(3) / 2) and np.fft.fft(np.ones(4))[0] == 4
        import matplotlib.pyplot as plt
        plt.plot([1]); fig, axes = plt.subplots(2, 3); axes[1, 2].imshow(x); plt.show()
        import json, math, zlib, hashlib, decimal, statistics, itertools
        print("fine")""",
        tmp_path,
    )
    assert run.returncode == 0 and "fine" in run.stdout, run.stderr


@pytest.mark.parametrize("lock", ["full", "filter only"])
def test_after_the_lock_no_new_native_code_runs(tmp_path, fresh_so, lock):
    """A fresh .so through ctypes, executable memory, another program: all refused. "filter only"
    installs just the seccomp filter (no import or audit hooks): the wall alone holds."""
    how = (
        "from grader_utils.sandbox.native_lock import lock; lock()"
        if lock == "full"
        else "from grader_utils.sandbox import native_lock as n; n._preload(); n._install_filter(); n._verify()"
    )
    run = _run_locked(
        f"""
        import ctypes, mmap, os, subprocess, sys
        refused = []
        try:
            ctypes.CDLL({str(fresh_so)!r})
        except OSError as exc:
            refused.append("dlopen: " + str(exc))
        except ImportError as exc:
            refused.append("dlopen: " + str(exc))
        try:
            mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        except PermissionError:
            refused.append("mmap")
        try:
            subprocess.run(["/bin/true"], check=True)
        except (PermissionError, subprocess.CalledProcessError):
            refused.append("subprocess")
        pid = os.fork()
        if pid == 0:
            try:
                os.execv("/bin/true", ["true"])
            finally:
                os._exit(42)
        refused.append("execv" if os.waitpid(pid, 0)[1] >> 8 == 42 else "")
        try:
            os.open("/proc/self/mem", os.O_RDWR)
        except PermissionError:
            refused.append("/proc/self/mem")
        libc = ctypes.CDLL(None, use_errno=True)
        refused.append("dumpable" if libc.prctl(4, 1, 0, 0, 0) != 0 else "")
        refused.append("personality" if libc.personality(0x0400000) == -1 else "")
        print("\\n".join(refused))""",
        tmp_path,
        lock=how,
    )
    assert run.returncode == 0, run.stderr
    for what in ("dlopen: ", "mmap", "subprocess", "execv", "/proc/self/mem", "dumpable", "personality"):
        assert any(line.startswith(what) for line in run.stdout.splitlines()), (what, run.stdout)
    if lock == "full":
        assert "compiled code" in run.stdout and "pool.so" in run.stdout, run.stdout


def test_without_the_lock_the_same_code_runs_native_code(tmp_path, fresh_so):
    """The test above can fail: without lock() everything it tries works."""
    run = _run_locked(
        f"""
        import ctypes, mmap
        ctypes.CDLL({str(fresh_so)!r})
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        print("native code loaded")""",
        tmp_path,
        lock="",
    )
    assert run.returncode == 0 and "native code loaded" in run.stdout, run.stderr


def test_extension_imports_are_refused_with_a_message(tmp_path):
    run = _run_locked(
        """
        for name in ("PIL.Image", "matplotlib.ft2font", "_tkinter"):
            try:
                __import__(name)
                print(name, "imported")
            except ImportError as exc:
                print(name, "refused:", exc)""",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "PIL.Image refused: PIL._imaging is compiled code (" in run.stdout, run.stdout
    assert "_tkinter refused" in run.stdout and "NumPy-only exercises may use NumPy" in run.stdout
    assert "matplotlib.ft2font imported" in run.stdout  # the stand-in: nothing compiled


def test_lock_fails_closed_on_an_unknown_architecture(tmp_path):
    run = _run_locked(
        "print('student code ran')",
        tmp_path,
        lock="import platform; platform.machine = lambda: 'riscv64'\n"
        "from grader_utils.sandbox.native_lock import lock; lock()",
    )
    assert run.returncode != 0 and "LockError" in run.stderr and "riscv64" in run.stderr
    assert "student code ran" not in run.stdout


@pytest.mark.root(why="only root can open its own /proc/self/mem when not dumpable")
def test_lock_fails_closed_as_root(tmp_path):
    run = _run_locked("print('student code ran')", tmp_path, as_root=True)
    assert run.returncode != 0 and "/proc/self/mem" in run.stderr and "student code ran" not in run.stdout
