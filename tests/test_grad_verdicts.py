"""judge/grad_verdicts.py and 04's checks: right answers (loops, vectorised, the lesson's full correlation) pass
every suite; every classic mistake fails some suite; a tuple answer is checked as a tuple of three, each part by
the one comparator, naming the wrong parts; a dtype slip in a tuple keeps the dtype share; tuples of arrays cross
the sandbox's protocol as they are."""

from __future__ import annotations

import numpy as np
import pytest

import reference_grads as ref
from grader_utils import checks
from grader_utils.judge import grad_verdicts
from grader_utils.judge.cases import SUITES, suite_cases
from grader_utils.judge.registry import ARRAY_EXERCISES
from grader_utils.judge.suite import SuiteReport
from grader_utils.sandbox import protocol

pytestmark = pytest.mark.keras

EXERCISES = {ex.function: ex for ex in ARRAY_EXERCISES.values() if ex.function in ref.CORRECT}


def _run(function: str, answer, suite: str, seed: int = 0, n: int | None = None) -> SuiteReport:
    ex = EXERCISES[function]
    assert ex.verdict is not None
    cases = suite_cases(ex.family, suite, seed=seed, n=n)
    return checks.run_suite(answer, function, cases, ex.verdict, suite, numpy_only=True)


def test_the_registry_declares_the_three_checks_numpy_only():
    assert set(EXERCISES) == {"conv2d_backward", "max_pool2d_backward", "average_pool2d_backward"}
    assert {ex.family for ex in EXERCISES.values()} == {"conv2d_backward", "pool2d_backward"}
    assert all(ex.numpy_only and not ex.arithmetic and callable(getattr(checks, ex.check)) for ex in EXERCISES.values())


@pytest.mark.parametrize("function,index", [(f, i) for f, answers in ref.CORRECT.items() for i in range(len(answers))])
def test_right_answers_pass_every_suite(function, index):
    answer = ref.CORRECT[function][index]
    for suite in SUITES[EXERCISES[function].family]:
        for seed in (0, 2026):
            report = _run(function, answer, suite, seed=seed)
            assert report.passed, report.message()


@pytest.mark.parametrize("function,mistake", [(f, m) for f, wrong in ref.WRONG.items() for m in wrong])
def test_every_classic_mistake_fails_the_hidden_suites(function, mistake):
    """Each mistake fails the random suite (what the hidden tests draw from), whatever the seed."""
    for seed in (0, 1, 2):
        report = _run(function, ref.WRONG[function][mistake], "random", seed=seed)
        assert not report.passed, (mistake, seed)


def test_the_visible_check_passes_a_right_answer_and_fails_a_wrong_one(capsys):
    checks.check_conv2d_backward(ref.conv2d_backward, "basic")
    checks.check_max_pool2d_backward(ref.max_pool2d_backward, "ties")
    checks.check_average_pool2d_backward(ref.average_pool2d_backward, "same_random")
    assert capsys.readouterr().out.count("PASSED") == 3
    n = len(suite_cases("conv2d_backward", "basic"))  # a kernel that is not flipped is wrong on every case
    with pytest.raises(AssertionError, match=rf"conv2d_backward: {n} of {n} basic cases are wrong"):
        checks.check_conv2d_backward(ref.WRONG["conv2d_backward"]["kernel_not_flipped"], "basic")


def _case_and_truth():
    case = suite_cases("conv2d_backward", "basic")[2]
    return case, ref.conv2d_backward(*case.args, **case.kwargs)


def test_a_tuple_of_three_arrays_is_required():
    case, (dx, dk, db) = _case_and_truth()
    verdict = grad_verdicts.verdict_conv2d_backward
    as_list = verdict(case, [dx, dk, db])
    assert not as_list.passed and as_list.details["problem"] == "type"
    assert (
        "should be a tuple (dx, dkernel, dbias)" in as_list.message and "return dx, dkernel, dbias" in as_list.message
    )
    assert verdict(case, dx).details["problem"] == "type"
    two = verdict(case, (dx, dk))
    assert two.details["problem"] == "length" and "it has 2 entries" in two.message
    not_array = verdict(case, (dx, dk, db.tolist()))
    assert not_array.details["parts"] == ["dbias"] and "dbias should be a NumPy array" in not_array.message


def test_the_wrong_parts_are_named_and_the_right_ones_said_right():
    case, (dx, dk, db) = _case_and_truth()
    verdict = grad_verdicts.verdict_conv2d_backward
    assert verdict(case, (dx, dk, db)).passed
    wrong_k = verdict(case, (dx, dk + 1, db))
    assert wrong_k.details["parts"] == ["dkernel"] and wrong_k.details["problem"] == "values"
    assert (
        wrong_k.message.startswith(f"dkernel has {dk.size} of {dk.size} values wrong")
        and "dx and dbias are right." in wrong_k.message
    )
    two = verdict(case, (dx[:-1], dk, -db))
    assert two.details["parts"] == ["dx", "dbias"] and two.details["problem"] == "shape"
    assert two.message.splitlines()[0].startswith("dx has shape") and "dbias has 3 of 3" in two.message
    assert "dkernel is right." in two.message


def test_a_dtype_slip_in_a_tuple_is_a_dtype_slip():
    """All parts float64 with the right values: ``problem="dtype"`` with ``values_ok``, so the suite's report is
    ``only_dtype`` and the engine keeps DTYPE_SHARE of the points; a dtype slip next to a wrong value is not."""
    report = _run(
        "conv2d_backward", lambda *a, **k: tuple(g.astype(np.float64) for g in ref.conv2d_backward(*a, **k)), "basic"
    )
    assert len(report.failures) == report.total and report.only_dtype
    result = report.failures[0][1]
    assert result.details["problem"] == "dtype" and result.details["values_ok"]
    assert "dx has dtype float64; Keras gives float32 (the values are right)" in result.message
    assert "right values, wrong dtype" in report.message()

    def slip_and_mistake(*args, **kwargs):
        dx, dk, db = ref.conv2d_backward(*args, **kwargs)
        return dx.astype(np.float64), dk, db * 2

    mixed = _run("conv2d_backward", slip_and_mistake, "basic")
    assert not mixed.only_dtype and mixed.failures[0][1].details["problem"] == "values"
    assert mixed.failures[0][1].message.startswith("dbias has")


def test_a_pooling_dx_is_checked_by_the_one_comparator():
    case = suite_cases("pool2d_backward", "basic")[2]
    dx = ref.max_pool2d_backward(*case.args, **case.kwargs)
    assert grad_verdicts.verdict_max_pool2d_backward(case, dx).passed
    assert grad_verdicts.verdict_max_pool2d_backward(case, dx.astype(np.float64)).details["problem"] == "dtype"
    wrong = grad_verdicts.verdict_average_pool2d_backward(case, dx)
    assert not wrong.passed and wrong.message.startswith("dx has") and wrong.details["problem"] == "values"


def test_a_tuple_of_arrays_crosses_the_protocol_as_it_is():
    """What the sandbox returns for conv2d_backward: a tuple of three plain arrays, judged as in the kernel."""
    case, answer = _case_and_truth()
    back = protocol.loads(*protocol.dumps(answer))
    assert type(back) is tuple and len(back) == 3
    assert all(type(b) is np.ndarray and b.dtype == a.dtype and np.array_equal(a, b) for a, b in zip(answer, back))
    assert grad_verdicts.verdict_conv2d_backward(case, back).passed
    as_list = protocol.loads(*protocol.dumps(list(answer)))
    assert type(as_list) is list and not grad_verdicts.verdict_conv2d_backward(case, as_list).passed
    subclass = protocol.loads(*protocol.dumps((answer[0], np.ma.masked_array(answer[1]), answer[2])))
    assert isinstance(subclass[1], protocol.Unsupported)
    assert not grad_verdicts.verdict_conv2d_backward(case, subclass).passed
