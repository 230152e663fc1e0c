"""instructor/demo.py: the demo-class builder (answer files into submissions of the release notebooks)."""

from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT
from grader_utils.instructor.demo import build_submission, read_answers

RELEASE_NB = ROOT / "release" / "02_padding_strides_pooling" / "padding_strides_pooling.ipynb"


def test_read_answers_splits_blocks(tmp_path):
    f = tmp_path / "s.py"
    f.write_text("# comment before\n\n# %% alpha\ndef alpha():\n    return 1\n\n# %% beta\nx = 2\n")
    assert read_answers(f) == {"alpha": "def alpha():\n    return 1\n", "beta": "x = 2\n"}


def test_build_submission_replaces_only_answered_cells(tmp_path):
    dest = tmp_path / "nb.ipynb"
    build_submission(
        RELEASE_NB, {"max_pool2d": "def max_pool2d(x, pool_size, strides=None, padding='valid'):\n    return x\n"}, dest
    )
    old = nbformat.read(RELEASE_NB, as_version=4)
    new = nbformat.read(dest, as_version=4)
    assert len(old.cells) == len(new.cells)
    changed = [
        o.metadata.get("nbgrader", {}).get("grade_id") for o, n in zip(old.cells, new.cells) if o.source != n.source
    ]
    assert changed == ["max_pool2d"]


def test_build_submission_rejects_unknown_cells(tmp_path):
    with pytest.raises(ValueError, match="no solution cells"):
        build_submission(RELEASE_NB, {"not_a_cell": "x = 1"}, tmp_path / "nb.ipynb")


def test_every_demo_answer_targets_a_real_solution_cell(tmp_path):
    for answers in (ROOT / "demo").glob("*/*.py"):
        release = sorted((ROOT / "release" / answers.parent.name).glob("*.ipynb"))
        assert release, f"{answers}: no release notebook for its assignment"
        build_submission(release[0], read_answers(answers), tmp_path / answers.stem / "nb.ipynb")
