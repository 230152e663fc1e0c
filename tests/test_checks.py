"""grader_utils.checks: what the notebooks' test cells do with a student's function -- a PASSED
line for a right answer, AssertionError for a wrong one, NotImplementedError for an untouched
exercise, a failure (not a crash) when the student's code raises, and copies of the arguments."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pytest

import reference_impls as ref
from grader_utils import checks
from grader_utils.judge import verdicts
from grader_utils.judge.case import Case
from grader_utils.judge.cases import suite_cases
from grader_utils.judge.stack_cases import LESSON_MODEL

pytestmark = pytest.mark.keras

#: check function -> (exercise name, correct implementation, a wrong implementation)
EXERCISES: dict[str, tuple[Any, Any, Any]] = {
    "conv2d_output_shape": (
        checks.check_conv2d_output_shape,
        ref.conv2d_output_shape,
        lambda input_shape, filters, kernel_size, strides=(1, 1), padding="valid": ref.conv2d_output_shape(
            input_shape, filters, kernel_size, strides, "valid"
        ),
    ),
    "pool2d_output_shape": (
        checks.check_pool2d_output_shape,
        ref.pool2d_output_shape,
        lambda input_shape, pool_size, strides=None, padding="valid": ref.pool2d_output_shape(
            input_shape, pool_size, 1 if strides is None else strides, padding
        ),
    ),
    "max_pool2d": (
        checks.check_max_pool2d,
        ref.max_pool2d,
        lambda x, pool_size, strides=None, padding="valid": ref.average_pool2d(x, pool_size, strides, padding),
    ),
    "average_pool2d": (
        checks.check_average_pool2d,
        ref.average_pool2d,
        lambda x, pool_size, strides=None, padding="valid": ref.max_pool2d(x, pool_size, strides, padding),
    ),
    "sequential_output_shapes": (
        checks.check_sequential_output_shapes,
        ref.sequential_output_shapes,
        lambda input_shape, layers: ref.sequential_output_shapes(input_shape, layers)[:-1] + [(1,)],
    ),
    "sequential_param_counts": (
        checks.check_sequential_param_counts,
        ref.sequential_param_counts,
        lambda input_shape, layers: [c + 1 for c in ref.sequential_param_counts(input_shape, layers)],
    ),
    "dense_param_count": (
        checks.check_dense_param_count,
        ref.dense_param_count,
        lambda input_shape, units: ref.dense_param_count(input_shape, units) - units,
    ),
    "conv2d_param_count": (
        checks.check_conv2d_param_count,
        ref.conv2d_param_count,
        lambda c_in, filters, kernel_size: ref.conv2d_param_count(c_in, filters, kernel_size) + 1,
    ),
    "correlate2d": (
        checks.check_correlate2d,
        ref.correlate2d,
        lambda image, kernel: ref.correlate2d(image, kernel[::-1, ::-1].copy()),
    ),
    "receptive_field": (
        checks.check_receptive_field,
        ref.receptive_field,
        lambda layers: tuple(r + 1 for r in ref.receptive_field(layers)),
    ),
    "conv2d": (
        checks.check_conv2d,
        ref.conv2d,
        lambda x, kernel, bias, strides=(1, 1), padding="valid": ref.conv2d(
            x, kernel, np.zeros_like(bias), strides, padding
        ),
    ),
}


@pytest.mark.parametrize("name", list(EXERCISES))
def test_correct_implementation_prints_one_passed_line(name, capsys):
    check, correct, _ = EXERCISES[name]
    assert check(correct, "basic") is None  # nbgrader would read a returned number as a score
    out = capsys.readouterr().out
    assert out.startswith(f"PASSED {name}: all ")
    assert out.endswith(" basic cases match Keras.\n") and out.count("\n") == 1


@pytest.mark.parametrize("name", list(EXERCISES))
def test_wrong_implementation_raises_assertion_error(name, capsys):
    check, _, wrong = EXERCISES[name]
    with pytest.raises(AssertionError) as info:
        check(wrong, "basic")
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert " basic cases are wrong.\nWrong case: " in message
    assert f"Wrong case: {name}(" in message
    assert "PASSED" not in capsys.readouterr().out


def test_failure_message_counts_wrong_cases_and_shows_one():
    def half_wrong(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
        shape = ref.conv2d_output_shape(input_shape, filters, kernel_size, strides, padding)
        return shape if padding == "valid" else (shape[0] + 1, shape[1], shape[2])

    cases = suite_cases("conv2d_output_shape", "basic")
    n_same = sum(c.kwargs.get("padding", "valid") == "same" for c in cases)
    with pytest.raises(AssertionError) as info:
        checks.check_conv2d_output_shape(half_wrong, "basic")
    first_line = str(info.value).split("\n")[0]
    assert first_line == f"conv2d_output_shape: {n_same} of {len(cases)} basic cases are wrong."
    assert "padding='same'" in str(info.value).split("\n")[1]


def test_n_limits_a_random_suite(capsys):
    checks.check_pool2d_output_shape(ref.pool2d_output_shape, "random", seed=5, n=17)
    assert capsys.readouterr().out == "PASSED pool2d_output_shape: all 17 random cases match Keras.\n"


# --- what the student's function may do ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXERCISES))
def test_unimplemented_function_raises_not_implemented_error_naming_it(name):
    check, _, _ = EXERCISES[name]

    def untouched(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError) as info:
        check(untouched, "basic")
    assert str(info.value).startswith(f"{name} is not implemented yet")
    assert "raise NotImplementedError()" in str(info.value)


def test_other_exceptions_become_failure_messages():
    def broken(input_shape, pool_size, strides=None, padding="valid"):
        if padding == "same":
            raise ValueError("padding not supported")
        return ref.pool2d_output_shape(input_shape, pool_size, strides, padding)

    cases = suite_cases("pool2d_output_shape", "basic")
    report = checks.run_suite(broken, "pool2d_output_shape", cases, verdicts.verdict_pool2d_output_shape, "basic")
    raised = [r for _, r in report.failures]
    assert len(raised) == sum(c.kwargs.get("padding") == "same" for c in cases) > 0
    assert all(r.message == "It raised ValueError: padding not supported" for r in raised)
    with pytest.raises(AssertionError, match="It raised ValueError: padding not supported"):
        checks.check_pool2d_output_shape(broken, "basic")


@pytest.mark.parametrize(
    "exc",
    [
        ZeroDivisionError("division by zero"),
        IndexError("index 5 is out of bounds"),
        AssertionError("my own assert"),
        KeyError("padding"),
    ],
)
def test_any_exception_of_the_student_is_a_wrong_answer_not_a_crash(exc):
    def raises(*args, **kwargs):
        raise exc

    with pytest.raises(AssertionError) as info:
        checks.check_max_pool2d(raises, "basic")
    assert f"It raised {type(exc).__name__}: {exc}" in str(info.value)
    n = len(suite_cases("pool2d_values", "basic"))
    assert f"{n} of {n} basic cases are wrong" in str(info.value)


def test_student_function_gets_copies_of_arrays(capsys):
    """pool_values 'basic' passes the same array object to two cases: a function that scribbles
    on its input must not change what later cases (or Keras' answer) see."""
    cases = suite_cases("pool2d_values", "basic")
    assert any(a.args[0] is b.args[0] for i, a in enumerate(cases) for b in cases[i + 1 :])
    seen: list[np.ndarray] = []

    def scribbles(x, pool_size, strides=None, padding="valid"):
        seen.append(x)
        out = ref.max_pool2d(x, pool_size, strides, padding)
        x[...] = np.nan
        return out

    before = [c.args[0].copy() for c in cases]
    report = checks.run_suite(scribbles, "max_pool2d", cases, verdicts.verdict_max_pool2d, "basic")
    assert report.passed, report.message()
    assert len(seen) == len(cases)
    assert all(s is not c.args[0] for s, c in zip(seen, cases))
    for case, original in zip(cases, before):
        np.testing.assert_array_equal(case.args[0], original)
    checks.check_max_pool2d(scribbles, "basic")
    assert capsys.readouterr().out.startswith("PASSED max_pool2d")


def test_student_function_gets_copies_of_layer_lists():
    """LESSON_MODEL is shared module state: emptying the list or editing a layer's kwargs inside the
    student's function must leave it (and the next checks) untouched."""
    lesson = copy.deepcopy(LESSON_MODEL)

    def vandal(input_shape, layers):
        shapes = ref.sequential_output_shapes(input_shape, layers)
        for _, kwargs in layers:
            kwargs.clear()
        layers.clear()
        return shapes

    checks.check_sequential_output_shapes(vandal, "basic")
    assert lesson == LESSON_MODEL
    checks.check_sequential_param_counts(ref.sequential_param_counts, "basic")


@pytest.mark.parametrize("not_a_function", [None, 42, "conv2d_output_shape", (28, 28, 3)], ids=repr)
def test_non_callable_raises_assertion_error(not_a_function):
    with pytest.raises(
        AssertionError, match=f"conv2d_output_shape should be a function, but it is {type(not_a_function).__name__}"
    ):
        checks.check_conv2d_output_shape(not_a_function, "basic")
    with pytest.raises(AssertionError, match="should be a function"):
        checks.run_suite(not_a_function, "f", [], verdicts.verdict_conv2d_output_shape)


# --- the verdicts on answers of the wrong kind -------------------------------------------------------------


def test_shape_with_float_entries_gets_the_int_hint():
    def floats(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
        return tuple(float(v) for v in ref.conv2d_output_shape(input_shape, filters, kernel_size, strides, padding))

    with pytest.raises(AssertionError, match=r"math\.ceil returns an int, np\.ceil a float"):
        checks.check_conv2d_output_shape(floats, "basic")


def test_pool_answer_as_list_or_wrong_dtype():
    case = Case((np.arange(16, dtype=np.float32).reshape(4, 4, 1), 2))
    result = verdicts.verdict_max_pool2d(case, ref.max_pool2d(*case.args).tolist())
    assert not result.passed and "should be a NumPy array" in result.message
    result = verdicts.verdict_max_pool2d(case, ref.max_pool2d(*case.args).astype(np.float64))
    assert not result.passed and "dtype float64; Keras gives float32" in result.message
    assert verdicts.verdict_max_pool2d(case, ref.max_pool2d(*case.args)).passed


def test_sequential_answers_of_the_wrong_kind():
    case = Case(((28, 56, 3), LESSON_MODEL))
    shapes = ref.sequential_output_shapes(*case.args)
    assert verdicts.verdict_sequential_output_shapes(case, shapes).passed
    assert "should be a list" in verdicts.verdict_sequential_output_shapes(case, tuple(shapes)).message
    assert "one entry per layer (5)" in verdicts.verdict_sequential_output_shapes(case, shapes[:4]).message
    as_lists = verdicts.verdict_sequential_output_shapes(case, [list(s) for s in shapes])
    assert not as_lists.passed and "should be a tuple of ints" in as_lists.message
    counts = ref.sequential_param_counts(*case.args)
    assert verdicts.verdict_sequential_param_counts(case, counts).passed
    assert verdicts.verdict_sequential_param_counts(case, [np.int64(c) for c in counts]).passed
    floats = verdicts.verdict_sequential_param_counts(case, [float(c) for c in counts])
    assert not floats.passed and floats.message == "Every parameter count should be an int."


def test_max_pool_check_refuses_keras_doing_the_work():
    """max_pool2d is a NumPy exercise: handing the work to Keras gives the right numbers but fails."""
    from grader_utils.judge import truth

    with pytest.raises(AssertionError, match="must use NumPy only"):
        checks.check_max_pool2d(truth.max_pool2d, "basic")


def test_a_dtype_slip_fails_the_visible_check_and_says_how_to_fix_it():
    float64 = lambda *a, **k: ref.max_pool2d(*a, **k).astype(np.float64)  # noqa: E731
    with pytest.raises(AssertionError) as info:
        checks.check_max_pool2d(float64, "basic")
    message = str(info.value)
    assert message.startswith("max_pool2d: right values, wrong dtype in")
    assert "dtype=x.dtype" in message and "keeps 3/4 of its points" in message
    wrong = lambda *a, **k: (ref.max_pool2d(*a, **k) + 1).astype(np.float64)  # noqa: E731
    with pytest.raises(AssertionError) as info:
        checks.check_max_pool2d(wrong, "basic")
    assert "right values" not in str(info.value) and "values are right" not in str(info.value)


def test_a_failed_check_shows_a_short_plain_message_in_a_real_kernel():
    """In an IPython kernel (JupyterLab, nbgrader's Validate and feedback) a failed check's output is
    its message, first and whole, without the frames of the course's check functions."""
    import nbformat
    from nbclient import NotebookClient

    code = (
        "from grader_utils.checks import check_dense_param_count\n"
        "def dense_param_count(input_shape, units):\n"
        "    return input_shape[-1] * units  # forgets the biases\n"
        "check_dense_param_count(dense_param_count, 'basic')"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True).execute()
    [error] = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    namespace: dict = {}
    exec(code.replace("check_dense_param_count(dense_param_count, 'basic')", ""), namespace)
    report = checks.run_suite(
        namespace["dense_param_count"],
        "dense_param_count",
        suite_cases("dense_param_count", "basic"),
        verdicts.verdict_dense_param_count,
        "basic",
    )
    expected = report.message().splitlines()
    assert error.ename == "CheckFailed" and error.evalue == report.message()
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in error.traceback]
    assert plain == ["Check failed: " + expected[0], *expected[1:]], plain
    assert "Likely cause" in plain[-1] and not any("checks.py" in line or "Traceback" in line for line in plain)


def test_receptive_field_verdict_wants_a_tuple_of_two_ints():
    case = suite_cases("receptive_field", "basic")[2]  # the lesson's model: a rectangular region
    size = ref.receptive_field(*case.args)
    assert verdicts.verdict_receptive_field(case, size).passed
    assert verdicts.verdict_receptive_field(case, (np.int64(size[0]), np.int64(size[1]))).passed
    as_list = verdicts.verdict_receptive_field(case, list(size))
    assert not as_list.passed and "should be a tuple of ints" in as_list.message
    floats = verdicts.verdict_receptive_field(case, (float(size[0]), float(size[1])))
    assert not floats.passed and "should contain only ints" in floats.message
    one = verdicts.verdict_receptive_field(case, size[:1])
    assert not one.passed and "should have 2 entries" in one.message


KERAS_SHAPE_ANSWER = """
import keras

def conv2d_output_shape(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
    layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    return tuple(int(v) for v in layer.compute_output_shape((None, *input_shape))[1:])
"""
TRUTH_PARAMS_ANSWER = """
def dense_param_count(input_shape, units):
    from grader_utils.judge import truth
    return truth.dense_param_count(input_shape, units)
"""
CHECKS_PARAMS_ANSWER = """
def conv2d_param_count(in_channels, filters, kernel_size):
    from grader_utils.judge import shapes  # plain Python, but masked under grading like all of judge/
    kh, kw = shapes.as_pair(kernel_size)
    return kh * kw * in_channels * filters + filters
"""


@pytest.mark.parametrize(
    "answer,check,ran",
    [
        (KERAS_SHAPE_ANSWER, "check_conv2d_output_shape", "keras"),
        (TRUTH_PARAMS_ANSWER, "check_dense_param_count", "grader_utils"),
        (CHECKS_PARAMS_ANSWER, "check_conv2d_param_count", "grader_utils.judge"),
    ],
    ids=["keras", "truth", "judge"],
)
def test_an_arithmetic_answer_from_keras_or_the_grader_fails_visibly_as_it_does_when_graded(answer, check, ran):
    """Issue #25 item 3: right values, but computed by Keras or by the grader's own ground truth, which a
    graded kernel does not have: the visible check fails with the grading's words (the engine's reason for
    the same answer is "{name}: ARITHMETIC_MESSAGE What happened: ..."), not "PASSED ... match Keras"."""
    from grader_utils.grading import engine
    from grader_utils.judge.hints import ARITHMETIC_MESSAGE

    namespace: dict = {}
    exec(answer, namespace)
    name = check.removeprefix("check_")
    with pytest.raises(AssertionError) as failed:
        getattr(checks, check)(namespace[name], "basic")
    message = str(failed.value)
    assert message.startswith(f"{name}: {ARITHMETIC_MESSAGE} What happened: it ran code from "), message
    assert ran in message and "PASSED" not in message
    assert engine.ARITHMETIC_MESSAGE == ARITHMETIC_MESSAGE  # the engine's reason says the same


def test_the_arithmetic_watch_masks_what_a_graded_kernel_masks():
    """The modules the visible arithmetic check refuses are the ones a graded kernel cannot import."""
    from grader_utils.sandbox.kernel import MASKED_GRADER_MODULES
    from grader_utils.sandbox.numpy_only import GRADER_MODULES

    assert GRADER_MODULES == MASKED_GRADER_MODULES


def test_plain_arithmetic_with_numpy_and_the_lessons_helpers_still_passes(capsys):
    """The watch refuses only Keras & co. and the grader's modules: integers, math and NumPy pass."""

    def conv2d_param_count(in_channels, filters, kernel_size):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        return int(np.prod([kh, kw, in_channels, filters])) + filters

    checks.check_conv2d_param_count(conv2d_param_count, "basic")
    assert capsys.readouterr().out.startswith("PASSED conv2d_param_count")
