"""Adversarial submissions against the trusted engine (real bubblewrap sandbox, real Keras).

Each submission is the student version of notebook 02 with some cells replaced. The engine
grades the three max_pool2d test cells (1 + 2 + 2 points); an honest correct answer earns
all 5, and nothing a submission does to its own process, the notebook's metadata, or the
files around it changes what it earns, nor what others earn.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grader_utils.grading import engine, records, specs
from grader_utils.judge import timing, verdicts
from grader_utils.judge.compare import DTYPE_SHARE
from grader_utils.judge.registry import EXERCISES
from grader_utils.sandbox.bwrap import Limits

pytestmark = pytest.mark.sandbox

ASSIGNMENT = "02_padding_strides_pooling"
NAME = "padding_strides_pooling.ipynb"
SOURCE = ROOT / "source" / ASSIGNMENT / NAME
RELEASE = ROOT / "release" / ASSIGNMENT / NAME
#: max_pool2d's test cells: one per taught feature, each a visible check and its hidden test (issue #25.1)
TESTS = {"max_pool2d__valid": 2.0, "max_pool2d__strides": 1.0, "max_pool2d__same": 2.0}
FULL = dict(TESTS)
ZERO = {k: 0.0 for k in TESTS}

LOOPS = """
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    if padding == "same":
        ho, wo = -(-h // sh), -(-w // sw)
        top = max((ho - 1) * sh + ph - h, 0) // 2
        left = max((wo - 1) * sw + pw - w, 0) // 2
    else:
        ho, wo, top, left = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    out = np.empty((ho, wo, c), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            r, q = i * sh - top, j * sw - left
            out[i, j] = x[max(r, 0):r + ph, max(q, 0):q + pw].max(axis=(0, 1))
    return out
"""

WINDOWS = """
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = (ph, pw) if strides is None else to_pair(strides)
    h, w, c = x.shape
    if padding == "same":
        th = max((-(-h // sh) - 1) * sh + ph - h, 0)
        tw = max((-(-w // sw) - 1) * sw + pw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return np.einsum("ijcab->ijcab", win).max(axis=(3, 4)).astype(x.dtype)
"""

WRONG = LOOPS.replace("out[i, j] = x[", "out[i, j] = 1 + x[")  # every value off by one


def cell(code: str) -> str:
    return textwrap.dedent(code).strip("\n")


# name: (extra cell run before the answer, answer cell, expected scores)
CASES: dict[str, tuple[str, str, dict[str, float]]] = {
    "honest loops": ("", LOOPS, FULL),
    "honest sliding_window_view + einsum": ("", WINDOWS, FULL),
    "correct but warns on stderr": (
        "",
        LOOPS.replace(
            "    return out",
            "    import sys, warnings\n"
            "    warnings.warn('slow loop')\n"
            "    print('debug', file=sys.stderr)\n    return out",
        ),
        FULL,
    ),
    "unanswered": (
        "",
        "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n    raise NotImplementedError()",
        ZERO,
    ),
    "wrong values": ("", WRONG, ZERO),
    "np.allclose patched": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
        WRONG,
        ZERO,
    ),
    "grader_utils patched": (
        "import grader_utils.checks as c, grader_utils.judge.compare as m\n"
        "c.check_max_pool2d = lambda *a, **k: print('PASSED')\n"
        "m.compare_arrays = lambda *a, **k: m.CheckResult(True)",
        WRONG,
        ZERO,
    ),
    "builtins patched": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: object",
        WRONG,
        ZERO,
    ),
    "ndarray subclass equal to everything": (
        "",
        cell("""
        class Yes(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), bool)
            def __ne__(self, other): return np.zeros(np.shape(other), bool)
        def max_pool2d(x, pool_size, strides=None, padding="valid"):
            return np.zeros((1, 1, 1), np.float32).view(Yes)"""),
        ZERO,
    ),
    "object with __array_function__ and __eq__": (
        "",
        cell("""
        class Anything:
            shape, dtype = (1,), np.float32
            def __eq__(self, other): return True
            def __array_function__(self, *a, **k): return True
            def __array__(self, *a, **k): return np.zeros(1)
        def max_pool2d(x, pool_size, strides=None, padding="valid"):
            return Anything()"""),
        ZERO,
    ),
    "list instead of array": ("", LOOPS.replace("    return out", "    return out.tolist()"), ZERO),
    "scalar instead of array": (
        "",
        "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n    return 0.0",
        ZERO,
    ),
    "NaN everywhere": ("", LOOPS.replace("    return out", "    return out * np.nan"), ZERO),
    "input transformer blanks later cells": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: [])",
        LOOPS,
        ZERO,
    ),
    "pre_run_cell hook, custom exc, showtraceback": (
        cell("""
        ip = get_ipython()
        ip.events.register("pre_run_cell", lambda *a: None)
        ip.set_custom_exc((Exception,), lambda *a, **k: None)
        ip.showtraceback = lambda *a, **k: None"""),
        WRONG,
        ZERO,
    ),
    "sys.exit in a cell": ("import sys\nsys.exit(0)", LOOPS, FULL),
    "sys.exit inside the function": ("", "import sys\ndef max_pool2d(*a, **k):\n    sys.exit(0)", ZERO),
    "os._exit in a cell": ("import os\nos._exit(0)", LOOPS, ZERO),
    "kills its own process": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", LOOPS, ZERO),
    # as in nbgrader, a cell past its time limit is interrupted (its error shows) and the notebook goes on
    "infinite loop in a cell": ("while True:\n    pass", LOOPS, FULL),
    "a loop that ignores the interrupt": (
        "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass",
        LOOPS,
        ZERO,
    ),
    "infinite loop in the function": ("", "def max_pool2d(*a, **k):\n    while True:\n        pass", ZERO),
    "memory bomb": ("try:\n    hog = bytearray(64 * 1024 ** 3)\nexcept MemoryError:\n    pass", LOOPS, FULL),
    "millions of output lines": ("for i in range(2_000_000):\n    print(i)", LOOPS, FULL),
    "huge image": ("import matplotlib.pyplot as plt\nplt.imshow(np.random.rand(4000, 4000))\nplt.show()", LOOPS, FULL),
    "reads the solutions": (
        "",
        cell(f"""
        import json
        SOLUTION = open({str(SOURCE)!r}).read()
        exec([c for c in json.loads(SOLUTION)["cells"] if "def max_pool2d" in "".join(c["source"])][0]["source"])
        """),
        ZERO,
    ),
    "writes the gradebook and others' files": (
        cell(f"""
        for path in [{str(ROOT / "gradebook.db")!r}, {str(ROOT / "submitted" / "alice" / "x.txt")!r}, "/tmp/owned"]:
            try:
                open(path, "w").write("owned")
            except OSError as exc:
                print(type(exc).__name__)"""),
        LOOPS,
        FULL,
    ),
    "network": (
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\nexcept OSError:\n    pass",
        LOOPS,
        FULL,
    ),
    "tensorflow imported directly": (
        "",
        "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n"
        "    import tensorflow as tf\n"
        "    return tf.nn.max_pool2d(x[None], pool_size, strides or pool_size, "
        "padding.upper()).numpy()[0]",
        ZERO,
    ),
    "tensorflow through __import__, importlib, sys.modules": (
        cell("""
        import importlib, sys
        def max_pool2d(x, pool_size, strides=None, padding="valid"):
            for load in (lambda: __import__("tensor" + "flow"), lambda: importlib.import_module("keras"),
                         lambda: sys.modules["tensorflow"]):
                try:
                    return load().nn.max_pool2d(x[None], pool_size, strides or pool_size, padding.upper())[0]
                except Exception:
                    pass
            raise RuntimeError("no library")"""),
        LOOPS.replace("def max_pool2d", "def unused"),
        ZERO,
    ),
    "scipy captured in an earlier cell": (
        "import scipy.ndimage as nd\nMAXF = nd.maximum_filter",
        "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n"
        "    return MAXF(x, size=(*to_pair(pool_size), 1))",
        ZERO,
    ),
    "keras imported at the top, used in the function": (
        "import keras",
        cell("""
        def max_pool2d(x, pool_size, strides=None, padding="valid"):
            return np.asarray(keras.layers.MaxPooling2D(pool_size, strides, padding)(x[None]))[0]"""),
        ZERO,
    ),
    "fork bomb": (
        "import os\nfor _ in range(10000):\n    try:\n        os.fork()\n    except OSError:\n        break",
        LOOPS,
        FULL,
    ),
}


def _hard_coded() -> str:
    """An answer that returns the visible test's expected outputs, pasted as literals."""
    from grader_utils.judge import truth
    from grader_utils.judge.cases import suite_cases

    table = []
    for case in [c for suite in ("valid", "strides", "same") for c in suite_cases("pool2d_values", suite)]:
        strides, padding = case.kwargs.get("strides"), case.kwargs.get("padding", "valid")
        table.append(
            (
                case.args[0].tolist(),
                case.args[1],
                strides,
                padding,
                truth.max_pool2d(*case.args, **case.kwargs).tolist(),
            )
        )
    return (
        f"ANSWERS = {table!r}\n"
        "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n"
        "    for xl, p, s, pad, answer in ANSWERS:\n"
        "        if x.tolist() == xl and pool_size == p and strides == s and padding == pad:\n"
        "            return np.array(answer, dtype=np.float32)\n"
        "    return np.zeros((1, 1, x.shape[2]), np.float32)\n"
    )


#: every test cell ends with its hidden test: answers pasted for the visible cases earn nothing
CASES["hard-coded visible answers"] = ("", _hard_coded(), ZERO)

#: right values in float64 (Keras gives float32): a dtype slip keeps DTYPE_SHARE of each test's points
FLOAT64 = LOOPS.replace("out = np.empty((ho, wo, c), dtype=x.dtype)", "out = np.empty((ho, wo, c))")
assert FLOAT64 != LOOPS
CASES["right values, float64"] = ("", FLOAT64, {k: v * DTYPE_SHARE for k, v in TESTS.items()})
CASES["right values, cast to float64 at the end"] = (
    "",
    LOOPS.replace("    return out", "    return out.astype(np.float64)"),
    {k: v * DTYPE_SHARE for k, v in TESTS.items()},
)
CASES["wrong values, float64"] = ("", FLOAT64.replace("out[i, j] = x[", "out[i, j] = 1 + x["), ZERO)


def make_submission(tmp: Path, extra: str, answer: str, mutate=None) -> Path:
    nb = nbformat.read(RELEASE, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "max_pool2d")
    nb.cells[index].source = answer.strip("\n")
    if extra:
        nb.cells.insert(index, nbformat.v4.new_code_cell(extra))
    if mutate:
        mutate(nb)
    path = tmp / NAME
    nbformat.write(nb, path)
    return path


def grade(path: Path, wall_seconds: float = 180) -> dict[str, tuple[str, float, str]]:
    """Generous wall-clock limit (a loaded CI machine must not turn slow-but-right into timeouts);
    the tests of hangs pass a short one."""
    results = engine.grade_notebook(
        path,
        SOURCE,
        release_nb=RELEASE,
        hide=[ROOT],
        limits=Limits(wall_seconds=wall_seconds),
        call_seconds=3,
        only=set(TESTS),
    )
    return {r.grade_id: (r.status, r.score, r.reason) for r in results}


@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_submission_earns_exactly_what_it_should(name, tmp_path):
    extra, answer, expected = CASES[name]
    # the cases that leave the kernel unable to answer stop at a short wall clock: the sandbox's limit
    # ends them (patched builtins break IPython itself: the kernel hangs until its wall clock runs out)
    hangs = "loop in a cell" in name or "ignores the interrupt" in name or name == "builtins patched"
    got = grade(make_submission(tmp_path, extra, answer), wall_seconds=15 if hangs else 180)
    assert {k: v[1] for k, v in got.items()} == expected, got
    for grade_id, (status, score, reason) in got.items():
        assert (status in ("ok", "dtype")) == (score > 0), (grade_id, status, reason)
        assert status == "ok" or reason, "every lost point needs a reason"


def test_statuses_name_what_happened(tmp_path):
    statuses = {}
    for name in (
        "os._exit in a cell",
        "a loop that ignores the interrupt",
        "infinite loop in the function",
        "tensorflow imported directly",
        "ndarray subclass equal to everything",
    ):
        extra, answer, _ = CASES[name]
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        wall = 15 if "loop" in name and "function" not in name else 180
        statuses[name] = grade(make_submission(folder, extra, answer), wall_seconds=wall)["max_pool2d__valid"]
    assert statuses["os._exit in a cell"][0] == "crash"
    assert statuses["a loop that ignores the interrupt"][0] == "timeout"
    assert statuses["infinite loop in the function"][0] == "timeout"
    assert "NumPy-only" in statuses["tensorflow imported directly"][2]
    assert "not plain data" in statuses["ndarray subclass equal to everything"][2]


def test_invalid_json_is_reported_as_invalid(tmp_path):
    path = tmp_path / NAME
    path.write_text('{"cells": [ this is not json')
    got = grade(path)
    assert {s for s, _, _ in got.values()} == {"invalid"} and all(score == 0 for _, score, _ in got.values())
    assert "could not be read" in got["max_pool2d__valid"][2]


def _edit_test_cells(nb):
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "max_pool2d__valid":
            c.source = "print('PASSED')"  # re-typed test cell
            meta["points"] = 100  # changed points
        if meta.get("grade_id") == "max_pool2d__strides":
            meta["grade"] = False  # no longer a test cell
    nb.metadata["kernelspec"] = {"name": "bogus", "display_name": "bogus", "language": "python"}


def _delete_and_duplicate(nb):
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("max_pool2d__")]
    nb.cells.remove(tests[0])
    nb.cells.append(nbformat.from_dict(json.loads(json.dumps(tests[1]))))


@pytest.mark.parametrize(
    "mutate,answer,expected",
    [
        (_edit_test_cells, WRONG, ZERO),
        (_edit_test_cells, LOOPS, FULL),
        (_delete_and_duplicate, WRONG, ZERO),
        (_delete_and_duplicate, LOOPS, FULL),
    ],
)
def test_edited_deleted_or_duplicated_test_cells_change_nothing(tmp_path, mutate, answer, expected):
    got = grade(make_submission(tmp_path, "", answer, mutate))
    assert {k: v[1] for k, v in got.items()} == expected  # points come from source/, not the submission
    if mutate is _delete_and_duplicate and answer == LOOPS:
        assert got["max_pool2d__valid"][0] == "integrity" and "deleted" in " ".join(
            r.notes[0]
            for r in engine.grade_notebook(
                make_submission(tmp_path, "", answer, mutate), SOURCE, hide=[ROOT], only={"max_pool2d__valid"}
            )
        )


def test_deleted_solution_cell_scores_zero_with_a_reason(tmp_path):
    def drop(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "max_pool2d"]

    got = grade(make_submission(tmp_path, "", LOOPS, drop))
    assert all(score == 0 for _, score, _ in got.values())
    assert "not defined" in got["max_pool2d__valid"][2]


def test_record_is_written_atomically(tmp_path):
    results = [records.TestResult("a__b", "ok", 1.0, 1.0)]
    target = tmp_path / "grading.json"
    records.write_record(target, "s", "a", "n", results)
    assert json.loads(target.read_text())["tests"][0]["status"] == "ok"
    assert [p.name for p in tmp_path.iterdir()] == ["grading.json"]  # no temporary file left behind


def test_nothing_outside_the_scratch_folder_is_written(tmp_path):
    """The sandbox saw an empty course directory and a private /tmp: the real ones are untouched."""
    before = {p: p.stat().st_mtime for p in [ROOT / "source" / ASSIGNMENT / NAME]}
    extra, answer, _ = CASES["writes the gradebook and others' files"]
    grade(make_submission(tmp_path, extra, answer))
    assert not Path("/tmp/owned").exists()
    assert not (ROOT / "submitted" / "alice" / "x.txt").exists()
    assert all(p.stat().st_mtime == t for p, t in before.items())
    gradebook = ROOT / "gradebook.db"
    assert not gradebook.exists() or gradebook.read_bytes()[:6] != b"owned"


def test_unchanged_demo_cells_are_skipped_but_edited_ones_run(tmp_path):
    """Lesson demos tagged 'demo' are not run when unchanged; a student's edit to one runs."""

    def hide_answer_in_a_demo(nb):
        demo = next(c for c in nb.cells if "demo" in c.metadata.get("tags", []))
        demo.source = LOOPS + "\n" + demo.source  # defined before the demo's own (failing) code

    got = grade(make_submission(tmp_path, "", "x = 1", hide_answer_in_a_demo))
    assert {k: v[1] for k, v in got.items()} == FULL
    nb = nbformat.read(RELEASE, as_version=4)
    demos = [c for c in nb.cells if "demo" in c.metadata.get("tags", [])]
    assert demos and all(c.cell_type == "code" for c in demos)
    cells, _ = specs.student_cells(nb, specs.read_specs(SOURCE), specs.release_demo_cells(RELEASE))
    assert not any(c.source in cells for c in demos)


def test_engine_reports_like_the_test_cell_with_the_likely_cause(tmp_path):
    """A max_pool2d that pads 'same' with the extra row on top: the engine's reason is the test
    cell's report (how many cases are wrong, one of them, the likely cause) and the cause's key is
    recorded for the class report. Points follow what works (issue #25 item 1): its 'valid' and strides
    cells keep their points, only the 'same' cell scores 0, and its visible 'same' check fails too."""
    from grader_utils import checks
    from grader_utils.judge.cases import suite_cases
    from grader_utils.judge.hints import HINTS

    top_first = LOOPS.replace(
        "top = max((ho - 1) * sh + ph - h, 0) // 2", "top = -(-max((ho - 1) * sh + ph - h, 0) // 2)"
    )
    assert top_first != LOOPS
    path = make_submission(tmp_path, "", top_first)
    results = {
        r.grade_id: r for r in engine.grade_notebook(path, SOURCE, release_nb=RELEASE, hide=[ROOT], only=set(TESTS))
    }
    assert {k: r.score for k, r in results.items()} == {**FULL, "max_pool2d__same": 0.0}, results
    result = results["max_pool2d__same"]
    assert result.status == "wrong" and result.causes, result
    assert all(key in HINTS for key in result.causes)
    assert HINTS[result.causes[0]] in result.reason
    # the kernel's own report on the same function says the same (the cell's visible and hidden calls)
    namespace: dict = {}
    exec("import numpy as np\nfrom grader_utils.judge.shapes import as_pair as to_pair\n" + top_first, namespace)
    calls = next(s for s in specs.read_specs(SOURCE) if s.grade_id == "max_pool2d__same").calls
    assert [c.hidden for c in calls] == [False, True]
    ex = EXERCISES[calls[0].check]
    family, verdict = ex.family, ex.verdict
    report = checks.run_suite(
        namespace["max_pool2d"],
        "max_pool2d",
        [case for c in calls for case in suite_cases(family, c.suite, seed=c.seed, n=c.n)],
        verdict,
        calls[0].suite,
    )
    assert report.message() == result.reason
    with pytest.raises(AssertionError, match="same cases are wrong"):  # the cell's visible check fails too
        checks.check_max_pool2d(namespace["max_pool2d"], "same")


def _conv_notebook(tmp_path, conv2d_fast: str):
    """Notebook 02 (where conv2d_fast is) with the instructor's conv2d_fast replaced."""
    path, src, release = _notebook_with(tmp_path, ASSIGNMENT, {"conv2d_fast": conv2d_fast})
    return engine.grade_notebook(path, src, release_nb=release, hide=[ROOT], only={"conv2d_fast__vectorized"})[0]


PIXEL_LOOP_FAST = """
import numpy as np

def conv2d_fast(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, _, c_out = kernel.shape
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    h, w, _ = x.shape
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    oh, ow = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.empty((oh, ow, c_out), dtype=np.result_type(x, kernel))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.tensordot(x[i * sh:i * sh + kh, j * sw:j * sw + kw], kernel, axes=3) + bias
    return out
"""


def test_vectorization_is_judged_by_time_measured_outside_the_sandbox(tmp_path):
    """conv2d_fast's rule: a loop over pixels fails with the loop message however it tampers with
    its own process (the time is measured by the grading process), and the instructor's vectorized
    solution passes."""
    import nbformat as nbf

    solution = next(
        c.source
        for c in nbf.read(SOURCE, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "conv2d_fast"
    )
    solution = "\n".join(line for line in solution.splitlines() if "SOLUTION" not in line)
    assert _conv_notebook(tmp_path, solution).status == "ok"
    looped = _conv_notebook(tmp_path, PIXEL_LOOP_FAST)
    assert looped.status == "wrong" and "loop over the output pixels" in looped.reason, looped
    # what beat the old call counter: switching the profile hook off, and a fake clock
    switched_off = _conv_notebook(
        tmp_path,
        PIXEL_LOOP_FAST.replace(
            "    kh, kw, _, c_out = kernel.shape",
            "    import sys; sys.setprofile(None)\n    kh, kw, _, c_out = kernel.shape",
        ),
    )
    assert switched_off.status == "wrong" and "loop over the output pixels" in switched_off.reason, switched_off
    fake_clock = _conv_notebook(
        tmp_path, "import time\ntime.perf_counter = lambda: 0.0\ntime.monotonic = lambda: 0.0\n" + PIXEL_LOOP_FAST
    )
    assert fake_clock.status == "wrong" and "loop over the output pixels" in fake_clock.reason, fake_clock


def test_a_dtype_slip_keeps_part_of_the_points_and_says_why(tmp_path):
    """max_pool2d right in float64: every test is ``dtype`` with DTYPE_SHARE of its points and a reason
    that says so; the test cell's output gives nbgrader the same partial score; the visible check in
    the student's own kernel still fails and says how to fix it."""
    from nbgrader.utils import determine_grade

    from grader_utils import checks
    from grader_utils.grading.secure_grade import put_verdicts
    from grader_utils.judge.cases import suite_cases

    path = make_submission(tmp_path, "", FLOAT64)
    results = engine.grade_notebook(path, SOURCE, release_nb=RELEASE, hide=[ROOT], call_seconds=3, only=set(TESTS))
    assert {r.grade_id: r.status for r in results} == {k: "dtype" for k in TESTS}
    for r in results:
        assert 0 < r.score == r.max_score * DTYPE_SHARE < r.max_score, r
        assert r.reason.startswith("right values, wrong dtype: max_pool2d") and "float64" in r.reason, r.reason
        assert "3/4 of its points" in r.reason and "dtype=x.dtype" in r.reason, r.reason
    # what nbgrader's own autograde (SaveAutoGrades) reads from the test cells' outputs
    nb = nbformat.read(path, as_version=4)
    put_verdicts(nb, results)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    for r in results:
        assert determine_grade(cells[r.grade_id]) == (r.score, r.max_score)
        assert "right values, wrong dtype" in cells[r.grade_id].outputs[0]["text"]
    # the visible check fails in the notebook, with the fix
    namespace: dict = {}
    exec("import numpy as np\nfrom grader_utils.judge.shapes import as_pair as to_pair\n" + FLOAT64, namespace)
    with pytest.raises(AssertionError) as info:
        checks.check_max_pool2d(namespace["max_pool2d"], "basic")
    assert "right values, wrong dtype" in str(info.value) and "dtype=x.dtype" in str(info.value)
    report = checks.run_suite(
        namespace["max_pool2d"],
        "max_pool2d",
        suite_cases("pool2d_values", "basic"),
        verdicts.verdict_max_pool2d,
        "basic",
    )
    assert report.only_dtype and len(report.failures) == report.total


def _notebook_with(tmp_path: Path, assignment: str, answers: dict[str, str]) -> tuple[Path, Path, Path]:
    """(submission, source, release) of ``assignment``'s notebook with the answer cells replaced."""
    source = next((ROOT / "source" / assignment).glob("*.ipynb"))
    release = ROOT / "release" / assignment / source.name
    nb = nbformat.read(release, as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") in answers:
            c.source = answers[c.metadata["nbgrader"]["grade_id"]]
    path = tmp_path / source.name
    nbformat.write(nb, path)
    return path, source, release


KERAS_SHAPE = """
def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid"):
    layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    return tuple(int(v) for v in layer.compute_output_shape((None, *input_shape))[1:])
"""
TRUTH_SHAPE = """
def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    from grader_utils.judge import truth
    return truth.pool2d_output_shape(input_shape, pool_size, strides, padding)
"""


def test_arithmetic_answers_from_keras_or_the_grader_score_zero_and_say_why(tmp_path):
    """conv2d_output_shape built from a Keras layer and pool2d_output_shape from grader_utils.truth give
    right values, but under grading both score 0 with the arithmetic message, and the visible checks in
    the student's own kernel fail with the same message (issue #25 item 3: the visible check = the grade)."""
    from grader_utils import checks

    namespace: dict = {}
    exec("import keras\n" + KERAS_SHAPE + TRUTH_SHAPE, namespace)
    for check, name in (
        (checks.check_conv2d_output_shape, "conv2d_output_shape"),
        (checks.check_pool2d_output_shape, "pool2d_output_shape"),
    ):
        with pytest.raises(AssertionError, match=re.escape(f"{name}: {engine.ARITHMETIC_MESSAGE} What happened:")):
            check(namespace[name], "basic")
    path, source, release = _notebook_with(
        tmp_path, ASSIGNMENT, {"conv2d_output_shape": KERAS_SHAPE, "pool2d_output_shape": TRUTH_SHAPE}
    )
    only = {"conv2d_output_shape__basic", "pool2d_output_shape__basic"}
    results = engine.grade_notebook(path, source, release_nb=release, hide=[ROOT], call_seconds=3, only=only)
    assert {r.grade_id for r in results} == only
    for r in results:
        assert (r.status, r.score) == ("wrong", 0.0), r
        assert engine.ARITHMETIC_MESSAGE in r.reason, r.reason
    by_id = {r.grade_id: r.reason for r in results}
    assert "keras" in by_id["conv2d_output_shape__basic"]  # what happened: the name the refused import left out
    assert "grader_utils.judge is not available" in by_id["pool2d_output_shape__basic"]


WHOLE_ARRAY = """
from grader_utils.judge.timing import _whole_array_conv

def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    return _whole_array_conv(x, kernel, bias, strides, padding)
"""
COMPILED_COPY = """
import glob, importlib.machinery, os
import grader_utils

def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    [pyc] = glob.glob(os.path.join(grader_utils.__path__[0], "judge", "__pycache__", "timing.*.pyc"))
    timing = importlib.machinery.SourcelessFileLoader("grader_utils.judge.timing", pyc).load_module()
    return timing._whole_array_conv(x, kernel, bias, strides, padding)
"""


@pytest.mark.parametrize("answer", [WHOLE_ARRAY, COMPILED_COPY], ids=["import", "compiled copy"])
def test_the_graders_own_numpy_helpers_give_no_answer_under_grading(tmp_path, answer):
    """timing._whole_array_conv (NumPy, used to time conv2d_fast) computes conv2d: right in the
    student's own kernel, but in the graded kernel of notebook 02 the grader's modules are masked."""
    import importlib.util
    import py_compile

    from grader_utils import checks
    from grader_utils.judge import timing

    # its compiled copy exists, as in a course whose Python writes bytecode
    pyc = Path(importlib.util.cache_from_source(timing.__file__))
    made = [p for p in (pyc.parent, pyc) if not p.exists()]
    py_compile.compile(timing.__file__, cfile=str(pyc), doraise=True)
    try:
        namespace: dict = {}
        exec(answer, namespace)
        checks.check_conv2d(namespace["conv2d"], "basic")  # a right answer, here
        path, source, release = _notebook_with(tmp_path, ASSIGNMENT, {"conv2d": answer})
        [result] = engine.grade_notebook(
            path, source, release_nb=release, hide=[ROOT], call_seconds=5, only={"conv2d__valid"}
        )
    finally:
        for p in reversed(made):
            try:
                p.unlink() if p.is_file() else p.rmdir()
            except OSError:
                pass
    assert (result.status, result.score) == ("wrong", 0.0), result
    if answer is WHOLE_ARRAY:
        assert "grader_utils.judge is not available while this notebook is graded" in result.reason, result.reason


def test_a_timed_case_is_tried_twice_only_near_its_limit():
    """The second call of a timed case (the faster counts) is made only where it can change the
    verdict: not after a call far inside every limit, nor after a pixel loop's seconds."""
    from grader_utils.grading.plan import second_try_needed
    from grader_utils.judge.cases import suite_cases

    case = suite_cases("conv2d", "large")[0]
    limit = timing.time_limit(case)
    assert limit >= timing.TIME_FLOOR
    assert not second_try_needed(limit, timing.TIME_FLOOR / 4)
    assert second_try_needed(limit, limit * 1.2)
    assert not second_try_needed(limit, limit * 3)


def test_a_timed_call_is_stopped_soon_after_it_has_failed_the_rule():
    """A pixel loop on a million pixels is stopped at three times the limit (not after call_seconds),
    and is then judged by the time rule, with the loop message."""
    from grader_utils.grading.plan import TIMED_ALARM_FACTOR, timed_call_seconds
    from grader_utils.judge.cases import suite_cases

    case = suite_cases("conv2d", "large")[0]
    assert timed_call_seconds(0.9, 20) == 3  # the limit on a quiet machine: a loop stops at 3 s, not 20
    assert timed_call_seconds(timing.TIME_FLOOR, 20) == 2
    assert timed_call_seconds(6.1, 20) == 19  # a loaded machine: the limit grows, and the alarm with it
    assert timed_call_seconds(0.9, 1) == 1  # never longer than the call limit itself
    alarm = timed_call_seconds(timing.time_limit(case), 20)
    assert alarm >= TIMED_ALARM_FACTOR * timing.TIME_FLOOR
    message = timing.slow_message("conv2d_fast", alarm, case, timing.time_limit(case), finished=False)
    assert f"did not finish within {alarm:g} s" in message and "loop over the output pixels" in message


def test_a_raising_answer_is_explained_by_the_students_own_cells_only(tmp_path):
    """The release's setup cell imports Keras, which the NumPy-only kernel refuses: that error is
    not the student's, so a function that raises is explained by its own error, and an import the
    student wrote (refused) is named."""
    raising = "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n    raise ValueError('oops')\n"
    got = grade(make_submission(tmp_path, "", raising))
    status, score, reason = got["max_pool2d__valid"]
    assert (status, score) == ("wrong", 0.0) and "ValueError: oops" in reason, got
    assert "errors in your code cells" not in reason and "code cell 1" not in reason, reason
    own_import = grade(make_submission(tmp_path, "import scipy.signal", raising))["max_pool2d__valid"][2]
    assert "errors in your code cells" in own_import and "scipy" in own_import, own_import


LESSON_MODEL_ANSWER = """
def build_lesson_model():
    return keras.Sequential([
        keras.Input(shape=(28, 56, 3)),
        layers.Conv2D(8, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(5, (3, 2), strides=(2, 3), padding="valid", activation="relu"),
        layers.MaxPooling2D((3, 3)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
"""
RF_RECURRENCE = """
def receptive_field(layers):
    r, j = [1, 1], [1, 1]
    for kind, kwargs in layers:
        window = kwargs["kernel_size"] if kind == "conv2d" else kwargs["pool_size"]
        default = 1 if kind == "conv2d" else window
        k = to_pair(window)
        s = to_pair(kwargs.get("strides") or default)
        for a in (0, 1):
            r[a] += (k[a] - 1) * j[a]
            j[a] *= s[a]
    return (r[0], r[1])
"""
RF_FROM_TRUTH = """
def receptive_field(layers):
    from grader_utils.judge import truth
    return truth.receptive_field(layers)
"""


@pytest.mark.parametrize(
    "answer,expected", [(RF_RECURRENCE, ("ok", 1.0)), (RF_FROM_TRUTH, ("wrong", 0.0))], ids=["recurrence", "from-truth"]
)
def test_receptive_field_in_the_keras_notebook_is_arithmetic_too(tmp_path, answer, expected):
    """03's kernel builds Keras models, so it is not locked to NumPy; still grader_utils.truth (whose
    receptive_field is the ground truth) is masked there, while the model checks keep working."""
    from grader_utils import checks

    namespace: dict = {}
    exec(
        "def to_pair(v):\n    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))\n"
        + answer,
        namespace,
    )
    if answer is RF_FROM_TRUTH:  # the visible check refuses it as grading does
        with pytest.raises(AssertionError, match=re.escape(engine.ARITHMETIC_MESSAGE)):
            checks.check_receptive_field(namespace["receptive_field"], "basic")
    else:
        checks.check_receptive_field(namespace["receptive_field"], "basic")
    path, source, release = _notebook_with(
        tmp_path, "03_building_a_cnn", {"receptive_field": answer, "build_lesson_model": LESSON_MODEL_ANSWER}
    )
    only = {"receptive_field__basic", "build_lesson_model__layers"}
    results = {
        r.grade_id: r
        for r in engine.grade_notebook(path, source, release_nb=release, hide=[ROOT], call_seconds=20, only=only)
    }
    assert (results["build_lesson_model__layers"].status, results["build_lesson_model__layers"].score) == ("ok", 2.0), (
        results["build_lesson_model__layers"]
    )
    rf = results["receptive_field__basic"]
    assert (rf.status, rf.score) == expected, rf
    if answer is RF_FROM_TRUTH:
        assert engine.ARITHMETIC_MESSAGE in rf.reason and "grader_utils.judge is not available" in rf.reason, rf.reason


def test_a_cached_answer_to_the_first_timed_call_fails_the_second():
    """Issue #23 item 3: the second call of a timed case gets an input never seen before (the same shapes, new
    values). A memoizing answer (a slow loop on its first input, its cached answer on the second call, fast)
    passed on the code before, when both calls got the same input; now its second answer is wrong for its input,
    and the honest answer, right on both, passes on its faster call."""
    from grader_utils.grading.engine import _result
    from grader_utils.grading.plan import CallLog, _plan, submission_digest
    from grader_utils.judge import truth

    spec = next(s for s in specs.read_specs(SOURCE) if any(c.suite == "large" for c in s.calls))
    calls, [(_, items)] = _plan([spec], b"a course secret", "a/nb", submission_digest(["x"]))
    assert all(item.timed for item in items)
    for item in items:
        item.limit = 0.5  # no need to measure NumPy here: the calls' times are given below

    def graded(answer_of_second_call):
        answers, log = {}, CallLog()
        for item in items:
            first, second = item.indexes
            right = truth.conv2d(*item.case.args, **item.case.kwargs)
            answers[first] = {"status": "returned", "value": right}
            answers[second] = {"status": "returned", "value": answer_of_second_call(item, right)}
            log.elapsed.update({first: 0.8, second: 0.01})  # a loop near the limit, then a fast second call
        return _result(spec, items, calls, answers.__getitem__, log, [])

    memo = graded(lambda item, first_answer: first_answer)
    assert memo.status == "wrong" and memo.score == 0, memo
    honest = graded(lambda item, _: truth.conv2d(*item.cases[1].args, **item.cases[1].kwargs))
    assert honest.status == "ok" and honest.score == honest.max_score, honest
