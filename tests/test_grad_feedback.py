"""judge/grad_feedback.py: each diagnosis of 04 names its classic mistake on every case the mistake gets wrong,
never fires on a right answer (any suite), and stays quiet on a mistake it is not about."""

from __future__ import annotations

import numpy as np
import pytest

import reference_grads as ref
from grader_utils import checks
from grader_utils.judge import grad_feedback, grad_truth
from grader_utils.judge.cases import SUITES, suite_cases
from grader_utils.judge.hints import HINTS
from grader_utils.judge.registry import ARRAY_EXERCISES
from grader_utils.judge.suite import SuiteReport

pytestmark = pytest.mark.keras

EXERCISES = {ex.function: ex for ex in ARRAY_EXERCISES.values() if ex.function in ref.CORRECT}

#: (exercise, mistake of reference_grads.WRONG) -> the hint key that names it (None: no diagnosis, none may fire)
NAMED = {
    ("conv2d_backward", "kernel_not_flipped"): "grad_kernel_not_flipped",
    ("conv2d_backward", "pads_swapped"): "grad_pads_swapped",
    ("conv2d_backward", "strides_ignored"): "grad_strides_ignored",
    ("conv2d_backward", "bias_mean"): "grad_bias_mean",
    ("max_pool2d_backward", "every_tie"): "grad_ties_counted_twice",
    ("max_pool2d_backward", "pads_swapped"): "grad_pads_swapped",
    ("max_pool2d_backward", "strides_ignored"): "grad_strides_ignored",
    ("max_pool2d_backward", "assign"): None,
    ("average_pool2d_backward", "full_window"): "grad_average_full_window",
    ("average_pool2d_backward", "full_window_pads_swapped"): "grad_average_full_window",  # and grad_pads_swapped
    ("average_pool2d_backward", "pads_swapped"): "grad_pads_swapped",
    ("average_pool2d_backward", "strides_ignored"): "grad_strides_ignored",
    ("average_pool2d_backward", "assign"): None,
}
GRAD_KEYS = {k for k in HINTS if k.startswith("grad_")}


def _report(function: str, answer, suite: str, seed: int) -> SuiteReport:
    ex = EXERCISES[function]
    assert ex.verdict is not None
    return checks.run_suite(answer, function, suite_cases(ex.family, suite, seed=seed), ex.verdict, suite)


def test_every_mistake_of_reference_grads_is_listed_and_every_grad_hint_names_one():
    assert set(NAMED) == {(f, m) for f, wrong in ref.WRONG.items() for m in wrong}
    assert {k for k in NAMED.values() if k} == GRAD_KEYS


@pytest.mark.parametrize("function,mistake", sorted(NAMED))
def test_each_diagnosis_names_its_mistake_on_every_case_it_gets_wrong(function, mistake):
    key = NAMED[(function, mistake)]
    wrong_cases = 0
    for suite in SUITES[EXERCISES[function].family]:
        for seed in (0, 1):
            report = _report(function, ref.WRONG[function][mistake], suite, seed)
            wrong_cases += len(report.failures)
            for call, result in report.failures:
                hints = result.details.get("hints", [])
                if key is None:
                    assert not hints, (call, hints)
                else:
                    assert key in hints, (suite, call, result.message)
            if key is not None and report.failures:
                assert report.likely_cause() == (key, len(report.failures))
                assert f"Likely cause (all of them): {HINTS[key]}" in report.message()
    assert wrong_cases >= 5


def test_two_mistakes_at_once_get_both_names():
    """Average pooling with the padding on the wrong side and the full window as divisor: both hints."""
    answer = ref.WRONG["average_pool2d_backward"]["full_window_pads_swapped"]
    report = _report("average_pool2d_backward", answer, "same_random", 0)
    both = [
        r for _, r in report.failures if r.details.get("hints") == ["grad_average_full_window", "grad_pads_swapped"]
    ]
    assert len(both) >= len(report.failures) // 2


def _right_answers(function: str):
    return [*ref.CORRECT[function], lambda *a, **k: _truth(function, *a, **k)]


def _truth(function: str, *args, **kwargs):
    return getattr(grad_truth, function)(*args, **kwargs)


@pytest.mark.parametrize("function", sorted(ref.CORRECT))
def test_no_diagnosis_fires_on_a_right_answer_of_any_suite(function):
    ex = EXERCISES[function]
    kind = "max" if function.startswith("max") else "average"
    for suite in SUITES[ex.family]:
        for case in suite_cases(ex.family, suite, seed=3):
            expected = _truth(function, *case.args, **case.kwargs)
            for answer in _right_answers(function):
                got = answer(*case.args, **case.kwargs)
                if function == "conv2d_backward":
                    keys = grad_feedback.conv_backward_hints(case.args, case.kwargs, got, expected)
                else:
                    keys = grad_feedback.pool_backward_hints(kind, case.args, case.kwargs, got, expected)
                assert keys == [], (suite, case.call_text(function), keys)


def test_a_right_part_next_to_a_wrong_one_is_no_evidence():
    """The flip only changes dx: an answer with a right dx and a wrong dkernel is not 'kernel not flipped'."""
    case = suite_cases("conv2d_backward", "basic")[2]
    dx, dk, db = ref.conv2d_backward(*case.args, **case.kwargs)
    expected = grad_truth.conv2d_backward(*case.args, **case.kwargs)
    assert grad_feedback.conv_backward_hints(case.args, case.kwargs, (dx, dk + 1, db), expected) == []
    flipped_dx = ref.WRONG["conv2d_backward"]["kernel_not_flipped"](*case.args, **case.kwargs)[0]
    assert grad_feedback.conv_backward_hints(case.args, case.kwargs, (flipped_dx, dk + 1, db), expected) == [
        "grad_kernel_not_flipped"
    ]


@pytest.mark.parametrize(
    "got",
    [
        None,
        (None, None, None),
        ("a", 1, 2.0),
        (np.array(["x"]),) * 3,
        (np.full((5, 6, 2), np.nan, np.float32), None, None),
    ],
)
def test_a_strange_answer_gets_no_diagnosis_and_no_crash(got):
    case = suite_cases("conv2d_backward", "basic")[2]
    expected = grad_truth.conv2d_backward(*case.args, **case.kwargs)
    assert grad_feedback.conv_backward_hints(case.args, case.kwargs, got, expected) == []
    pool = suite_cases("pool2d_backward", "same_random")[0]
    dx = grad_truth.max_pool2d_backward(*pool.args, **pool.kwargs)
    for junk in (got, np.full(dx.shape, np.nan, np.float32), dx[:-1]):
        assert grad_feedback.pool_backward_hints("max", pool.args, pool.kwargs, junk, dx) == []
