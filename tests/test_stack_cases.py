"""judge/stack_cases.py: the Sequential stacks and receptive-field stacks exercise what the exercises are about."""

from __future__ import annotations

from grader_utils.judge import stack_cases
from grader_utils.judge.cases import suite_cases


def test_lesson_model_is_the_lessons_stack():
    kinds = [kind for kind, _ in stack_cases.LESSON_MODEL]
    assert kinds == ["conv2d", "conv2d", "max_pooling2d", "flatten", "dense"]
    assert stack_cases.sequential_basic()[0].args == ((28, 56, 3), stack_cases.LESSON_MODEL)


def test_receptive_field_cases_cover_what_the_exercise_is_about():
    """Every layer kind, default and given pooling strides, rectangular kernels and strides, both paddings."""
    stacks = [c.args[0] for c in suite_cases("receptive_field", "random", seed=0)]
    specs = [spec for stack in stacks for spec in stack]
    assert {kind for kind, _ in specs} == {"conv2d", "max_pooling2d", "average_pooling2d"}
    pools = [kw for kind, kw in specs if kind != "conv2d"]
    assert any("strides" not in kw for kw in pools) and any("strides" in kw for kw in pools)
    assert any(isinstance(kw.get("kernel_size", kw.get("pool_size")), tuple) for _, kw in specs)
    assert any(isinstance(kw.get("strides"), tuple) and kw["strides"][0] != kw["strides"][1] for _, kw in specs)
    assert {kw.get("padding") for _, kw in specs} >= {"valid", "same", None}
    assert max(len(s) for s in stacks) >= 4
