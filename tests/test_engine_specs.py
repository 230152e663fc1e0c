"""The engine reads which checks each instructor test cell runs (no sandbox needed)."""

from __future__ import annotations

import pytest

from conftest import ROOT, assignments
from grader_utils.engine import CHECKS, KERNEL_ONLY, read_specs


@pytest.mark.parametrize("assignment", assignments())
def test_every_test_cell_is_understood(assignment):
    for nb in (ROOT / "source" / assignment).glob("*.ipynb"):
        specs = read_specs(nb)
        assert specs, nb
        for spec in specs:
            assert spec.calls, f"{spec.grade_id} calls no check_* function"
            for call in spec.calls:
                if call.check in CHECKS and (call.check, call.suite) not in KERNEL_ONLY:
                    assert call.func and call.suite, spec.grade_id


def test_plain_data_exercises_are_graded_by_the_engine():
    engine_ids = {s.grade_id for a in ("01_convolution", "02_padding_strides_pooling")
                  for nb in (ROOT / "source" / a).glob("*.ipynb") for s in read_specs(nb) if s.engine}
    kernel_ids = {s.grade_id for a in ("01_convolution", "02_padding_strides_pooling")
                  for nb in (ROOT / "source" / a).glob("*.ipynb") for s in read_specs(nb) if not s.engine}
    assert "max_pool2d__random" in engine_ids and "conv2d__same_padding" in engine_ids
    assert kernel_ids == {"conv2d_fast__vectorized"}
