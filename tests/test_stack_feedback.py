"""judge/stack_feedback.py: every mistake in a Sequential stack's shapes or parameter counts and in a receptive
field gets its hint (the first wrong layer named), and none fires on a correct answer. The buggy
implementations are in tests/mistakes.py; expected answers come from Keras."""

from __future__ import annotations

import pytest

import reference_impls as ref
from grader_utils import checks
from grader_utils.judge import stack_feedback, truth, verdicts
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.hints import HINTS
from mistakes import RF_MISTAKES, SEQUENTIAL_MISTAKES, params_impl, run

pytestmark = pytest.mark.keras


@pytest.mark.parametrize(
    "exercise,func,key,suite",
    SEQUENTIAL_MISTAKES,
    ids=[f"{e.split('_')[1]}-{key}-{s}" for e, _, key, s in SEQUENTIAL_MISTAKES],
)
def test_sequential_mistake_is_named(exercise, func, key, suite):
    report = run(func, exercise, "sequential", suite, seed=5, n=10 if suite == "random" else None)
    assert not report.passed
    assert HINTS[key] in report.message()
    for call, result in report.failures:  # every wrong case names the first wrong layer and the mistake
        assert result.message.startswith("The first wrong "), (call, result.message)
        assert HINTS[key] in result.message, (call, result.message)


def test_sequential_diagnosis_names_the_first_wrong_layer():
    layers = [
        ("conv2d", {"filters": 4, "kernel_size": 3}),
        ("max_pooling2d", {"pool_size": 2}),
        ("flatten", {}),
        ("dense", {"units": 2}),
    ]
    case = Case(((10, 10, 1), layers))
    report = run(params_impl(pool_params=True), "sequential_param_counts", "sequential", "hand", cases=[case])
    message = report.failures[0][1].message
    assert "layer 2 (max_pooling2d): got 16, Keras gives 0." in message


@pytest.mark.parametrize("key", list(RF_MISTAKES))
@pytest.mark.parametrize("suite,seed", [("basic", 0), ("random", 2031)])
def test_receptive_field_mistake_is_named(key, suite, seed):
    cases = suite_cases("receptive_field", suite, seed=seed)
    report = checks.run_suite(RF_MISTAKES[key], "receptive_field", cases, verdicts.verdict_receptive_field, suite)
    assert not report.passed
    assert report.likely_cause()[0] == key
    assert "Likely cause" in report.message() and HINTS[key] in report.message()


def test_no_receptive_field_diagnosis_fires_on_a_correct_answer():
    for case in suite_cases("receptive_field", "basic") + suite_cases("receptive_field", "random", seed=3):
        (layers,) = case.args
        got = ref.receptive_field(layers)
        assert stack_feedback.receptive_field_hints(layers, got, truth.receptive_field(layers)) == []
        wrong = (got[0] + 1, got[1])  # a wrong answer that is none of the mistakes
        keys = stack_feedback.receptive_field_hints(layers, wrong, truth.receptive_field(layers))
        assert all(RF_MISTAKES[k](layers) == wrong for k in keys)


def test_correct_receptive_field_passes_the_notebooks_suites(capsys):
    for suite, seed in [("basic", 0), ("random", 2031), ("random", 3)]:
        checks.check_receptive_field(ref.receptive_field, suite, seed=seed)
        assert capsys.readouterr().out.startswith("PASSED receptive_field: ")


def test_no_sequential_diagnosis_fires_on_a_correct_answer():
    for case in suite_cases("sequential", "basic") + suite_cases("sequential", "edge"):
        input_shape, layers = case.args
        shapes, params = truth.sequential_summary(input_shape, layers)
        assert (
            stack_feedback.diagnose_sequential_shapes(
                input_shape, layers, ref.sequential_output_shapes(input_shape, layers), shapes
            )
            is None
        )
        assert (
            stack_feedback.diagnose_sequential_params(
                input_shape, layers, ref.sequential_param_counts(input_shape, layers), params, shapes
            )
            is None
        )
