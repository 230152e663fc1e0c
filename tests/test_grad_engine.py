"""04's tuple answers through the trusted engine (real bubblewrap sandbox, real Keras): ``(dx, dkernel, dbias)``
crosses the sandbox as a tuple of arrays and earns the points of a right answer; a dtype slip in it keeps the
dtype share; a list is wrong, and says so; a classic mistake is named. The notebook is made here (a solution
cell and two test cells), so the test needs no assignment's notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grader_utils.grading import engine
from grader_utils.judge.compare import DTYPE_SHARE
from grader_utils.judge.hints import HINTS

pytestmark = pytest.mark.sandbox

RIGHT = """
def conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = strides
    (h, w, _), (h_out, w_out, _) = x.shape, dout.shape
    th = max((h_out - 1) * sh + kh - h, 0) if padding == "same" else 0
    tw = max((w_out - 1) * sw + kw - w, 0) if padding == "same" else 0
    xp = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    dxp = np.zeros_like(xp)
    dkernel = np.zeros_like(kernel)
    for i in range(h_out):
        for j in range(w_out):
            dkernel += xp[i * sh:i * sh + kh, j * sw:j * sw + kw, :, None] * dout[i, j]
            dxp[i * sh:i * sh + kh, j * sw:j * sw + kw] += KERNEL @ dout[i, j]
    return RESULT
"""
RESULT = "dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w], dkernel, dout.sum(axis=(0, 1))"
POINTS = {"conv2d_backward__basic": 1.0, "conv2d_backward__random": 2.0}


def _answer(kernel: str = "kernel", result: str = RESULT) -> str:
    return RIGHT.replace("KERNEL", kernel).replace("RESULT", result)


def _cell(source: str, grade_id: str, *, solution: bool = False, points: float = 0.0) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    meta = {
        "grade": not solution,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
    }
    if not solution:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def _notebook(path: Path, answer: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np"),
        _cell(answer.strip("\n"), "conv2d_backward", solution=True),
        _cell(
            'from grader_utils.checks import check_conv2d_backward\n\ncheck_conv2d_backward(conv2d_backward, "basic")',
            "conv2d_backward__basic",
            points=1,
        ),
        _cell(
            "### BEGIN HIDDEN TESTS\nfrom grader_utils.checks import check_conv2d_backward\n\n"
            'check_conv2d_backward(conv2d_backward, "random", seed=409)\n### END HIDDEN TESTS',
            "conv2d_backward__random",
            points=2,
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _grade(tmp_path: Path, answer: str) -> dict:
    source = _notebook(tmp_path / "source" / "backprop.ipynb", _answer())
    submission = _notebook(tmp_path / "submitted" / "backprop.ipynb", answer)
    results = engine.grade_notebook(submission, source, hide=[ROOT], call_seconds=10)
    return {r.grade_id: r for r in results}


def test_a_tuple_answer_crosses_the_sandbox_and_is_graded(tmp_path):
    results = _grade(tmp_path, _answer())
    assert {g: (r.status, r.score) for g, r in results.items()} == {g: ("ok", p) for g, p in POINTS.items()}


def test_a_dtype_slip_in_a_tuple_keeps_the_dtype_share(tmp_path):
    slip = "dxp[th // 2:th // 2 + h, tw // 2:tw // 2 + w].astype(np.float64), dkernel, dout.sum(axis=(0, 1))"
    results = _grade(tmp_path, _answer(result=slip))
    for grade_id, points in POINTS.items():
        r = results[grade_id]
        assert r.status == "dtype" and r.score == points * DTYPE_SHARE, r
        assert "dx has dtype float64; Keras gives float32 (the values are right)" in r.reason


def test_a_list_and_a_classic_mistake_are_wrong_and_say_why(tmp_path):
    as_list = _grade(tmp_path / "list", _answer(result=f"[{RESULT}]"))
    assert all(r.status == "wrong" and r.score == 0 for r in as_list.values())
    assert "should be a tuple (dx, dkernel, dbias), but it is a list" in as_list["conv2d_backward__basic"].reason
    flipped = _grade(tmp_path / "flipped", _answer(kernel="kernel[::-1, ::-1]"))
    for r in flipped.values():
        assert r.status == "wrong" and r.causes == ["grad_kernel_not_flipped"], r
        assert HINTS["grad_kernel_not_flipped"] in r.reason
