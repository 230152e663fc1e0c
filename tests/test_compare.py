"""grader_utils.compare: the one comparator, its order of checks, its tolerance and its messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from grader_utils.judge.compare import (
    ATOL,
    RTOL,
    CheckResult,
    compare_arrays,
    compare_float,
    compare_int,
    compare_int_tuple,
)


def tol(expected: np.ndarray | float) -> np.ndarray:
    """The documented allowance ``ATOL + RTOL * |expected|`` (float64)."""
    return ATOL + RTOL * np.abs(np.asarray(expected, dtype=np.float64))


# --- CheckResult ------------------------------------------------------------------------------


def test_raise_if_failed_raises_assertion_error_with_the_message():
    result = CheckResult(False, 1, 2, "the count is 2; Keras gives 1.")
    with pytest.raises(AssertionError) as info:
        result.raise_if_failed()
    assert str(info.value) == "the count is 2; Keras gives 1."


def test_raise_if_failed_is_silent_when_passed():
    assert CheckResult(True, 1, 1).raise_if_failed() is None


def test_failed_comparison_raises_through_raise_if_failed():
    result = compare_int(3, 4, what="the count")
    with pytest.raises(AssertionError, match="the count is 3; Keras gives 4"):
        result.raise_if_failed()


# --- compare_arrays: order of checks -------------------------------------------------------------

EXPECTED = np.arange(12, dtype=np.float32).reshape(3, 4) / 7


def test_equal_arrays_pass():
    result = compare_arrays(EXPECTED.copy(), EXPECTED)
    assert result.passed and result.message == ""


@pytest.mark.parametrize(
    "got",
    [
        EXPECTED.tolist(),
        tuple(map(tuple, EXPECTED.tolist())),
        np.float32(1.0),
        None,
        np.ma.masked_array(EXPECTED.copy()),
        "matrix",
    ],
    ids=["list", "tuple", "numpy-scalar", "None", "masked-array", "matrix"],
)
def test_non_ndarrays_and_subclasses_are_type_failures(got):
    if isinstance(got, str):  # np.matrix warns when created: build it here, quietly
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            got = np.matrix(EXPECTED.copy())
    result = compare_arrays(got, EXPECTED, what="The returned array")
    assert not result.passed
    assert result.details["problem"] == "type"
    assert result.message.startswith("The returned array should be a NumPy array (np.ndarray), but it is ")


def test_custom_ndarray_subclass_is_rejected():
    class Sub(np.ndarray):
        pass

    result = compare_arrays(EXPECTED.copy().view(Sub), EXPECTED)
    assert not result.passed and result.details["problem"] == "type"


def test_type_is_checked_before_shape():
    result = compare_arrays([[1.0]], EXPECTED)
    assert result.details["problem"] == "type"


def test_shape_is_checked_before_dtype_and_values():
    got = np.full((4, 3), np.nan, dtype=np.float64)  # wrong shape, dtype and values
    result = compare_arrays(got, EXPECTED)
    assert result.details["problem"] == "shape"
    assert "(4, 3)" in result.message and "(3, 4)" in result.message
    assert result.expected == (3, 4) and result.got == (4, 3)


def test_dtype_is_checked_before_non_finite_and_values():
    got = EXPECTED.astype(np.float64)
    got[0, 0] = np.nan
    got[1, 1] += 5
    result = compare_arrays(got, EXPECTED)
    assert result.details["problem"] == "dtype"
    assert "float64" in result.message and "float32" in result.message
    assert "dtype=x.dtype" in result.message


def test_a_wrong_dtype_says_whether_the_values_are_right():
    """Cast to the expected dtype, right values (within the tolerance) are a dtype slip only
    (``values_ok``, which the grader rewards in part); wrong values are not."""
    right = compare_arrays(EXPECTED.astype(np.float64), EXPECTED)
    assert right.details == {"problem": "dtype", "values_ok": True}
    assert "(the values are right)" in right.message and "dtype=x.dtype" in right.message
    nearly = EXPECTED.astype(np.float64) * (1 + RTOL / 10)  # float64 noise inside the tolerance
    assert compare_arrays(nearly, EXPECTED).details["values_ok"]
    for wrong in (
        EXPECTED.astype(np.float64) + 1,
        np.where(EXPECTED > 1, np.nan, EXPECTED).astype(np.float64),
        EXPECTED.astype(np.int32),
    ):
        result = compare_arrays(wrong, EXPECTED)
        assert result.details == {"problem": "dtype", "values_ok": False}, wrong
        assert "values are right" not in result.message


def test_non_finite_is_checked_before_values():
    got = EXPECTED.copy()
    got[0, 1] += 5  # a wrong value first in C order
    got[2, 3] = np.inf  # then a non-finite one
    got[1, 2] = np.nan
    result = compare_arrays(got, EXPECTED)
    assert result.details["problem"] == "nonfinite"
    assert result.details["index"] == (1, 2)
    assert "2 NaN or infinite value(s)" in result.message
    assert "(1, 2)" in result.message


def test_nan_where_keras_has_nan_is_fine():
    expected = np.array([1.0, np.nan, np.inf], dtype=np.float32)
    assert compare_arrays(expected.copy(), expected).passed


def test_finite_where_keras_has_nan_is_a_value_failure():
    expected = np.array([1.0, np.nan], dtype=np.float32)
    result = compare_arrays(np.array([1.0, 0.0], dtype=np.float32), expected)
    assert not result.passed and result.details["problem"] == "values" and result.details["index"] == (1,)


def test_value_failure_reports_count_first_index_and_largest_error():
    got = EXPECTED.copy()
    got[1, 3] += 0.5
    got[2, 0] -= 2.0
    result = compare_arrays(got, EXPECTED, what="The returned array")
    assert result.details == {"problem": "values", "index": (1, 3), "count": 2}
    assert "2 of 12 values wrong" in result.message
    assert "largest error 2" in result.message
    assert "first at index (1, 3)" in result.message
    # numbers are written as a student would, not as np.float32(...)
    assert "np.float32" not in result.message
    assert f"Keras gives {EXPECTED[1, 3]:.7g}" in result.message
    assert result.expected == EXPECTED[1, 3] and result.got == got[1, 3]


def test_integer_arrays_compare_exactly():
    expected = np.array([[1, 2], [3, 4]])
    assert compare_arrays(expected.copy(), expected).passed
    got = expected.copy()
    got[1, 0] = 4
    result = compare_arrays(got, expected)
    assert not result.passed and result.details["index"] == (1, 0)


# --- compare_arrays: tolerance boundary -------------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 1e-3, 0.37, 1.0, -2.5, 123.0, -4.0e4, 1.0e6])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_tolerance_boundary_float64(value, sign):
    """|got - expected| <= ATOL + RTOL * |expected|: just inside passes, just outside fails."""
    expected = np.array([value])
    allowed = float(tol(value))
    inside = expected + sign * allowed * (1 - 1e-6)
    outside = expected + sign * allowed * (1 + 1e-6)
    assert compare_arrays(inside, expected).passed
    assert not compare_arrays(outside, expected).passed


@pytest.mark.parametrize("value", [0.0, 1e-2, 0.37, -2.5, 123.0, 1.0e5])
def test_tolerance_float32_inside_and_outside(value):
    expected = np.array([value], dtype=np.float32)
    allowed = tol(expected)[0]
    inside = (expected.astype(np.float64) + 0.9 * allowed).astype(np.float32)
    outside = (expected.astype(np.float64) + 1.2 * allowed).astype(np.float32)
    assert compare_arrays(inside, expected).passed
    assert not compare_arrays(outside, expected).passed


def test_tolerance_is_relative_to_expected_not_to_got():
    """The documented formula scales with |expected| (np.isclose(got, expected))."""
    expected = np.array([1.0])
    got = np.array([1.0e6])  # |got - expected| is within RTOL * |got| but far from RTOL * |expected|
    assert not compare_arrays(got, expected, rtol=0.999999, atol=0).passed
    assert compare_arrays(expected, got, rtol=0.999999, atol=0).passed


def test_custom_tolerances_are_used():
    expected = np.array([1.0])
    assert compare_arrays(np.array([1.1]), expected, rtol=0.2).passed
    assert not compare_arrays(np.array([1.1]), expected).passed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_randomized_perturbations_inside_and_outside_tolerance(dtype):
    """A few hundred random arrays: perturbations within half the allowance pass, perturbations of
    twice the allowance fail, and the reported count and first index are right."""
    rng = np.random.default_rng(1234)
    for _ in range(300):
        shape = tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        scale = 10.0 ** rng.uniform(-4, 4)
        expected = (rng.normal(size=shape) * scale).astype(dtype)
        allowed = tol(expected)
        signs = rng.choice([-1.0, 1.0], size=shape)

        inside = (expected.astype(np.float64) + signs * allowed * rng.uniform(0, 0.5, size=shape)).astype(dtype)
        result = compare_arrays(inside, expected)
        assert result.passed, (expected, inside, result.message)

        wrong = rng.random(shape) < 0.3
        if not wrong.any():
            wrong.flat[int(rng.integers(expected.size))] = True
        outside = expected.astype(np.float64) + np.where(wrong, signs * allowed * rng.uniform(2, 50, size=shape), 0)
        outside = outside.astype(dtype)
        result = compare_arrays(outside, expected)
        assert not result.passed
        assert result.details["problem"] == "values"
        assert result.details["count"] == int(wrong.sum())
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        assert result.details["index"] == first
        assert f"first at index {first}" in result.message


# --- compare_int_tuple --------------------------------------------------------------------------------


def test_int_tuple_equal_passes():
    result = compare_int_tuple((14, 28, 8), (14, 28, 8))
    assert result.passed and result.got == (14, 28, 8)


def test_int_tuple_numpy_ints_are_accepted():
    got = (np.int64(14), np.int32(28), np.int64(8))
    result = compare_int_tuple(got, (14, 28, 8))
    assert result.passed
    assert all(type(v) is int for v in result.got)


@pytest.mark.parametrize("bad", [14.0, np.float64(14.0), np.float32(14.0)], ids=repr)
def test_int_tuple_floats_are_rejected_with_the_hint(bad):
    result = compare_int_tuple((bad, 28, 8), (14, 28, 8), what="The returned shape")
    assert not result.passed and result.details["problem"] == "type"
    assert result.message.startswith("The returned shape should contain only ints")
    assert "math.ceil returns an int, np.ceil a float" in result.message
    assert type(bad).__name__ in result.message


def test_int_tuple_bool_is_rejected_without_the_float_hint():
    result = compare_int_tuple((True, 28, 8), (1, 28, 8))
    assert not result.passed and "np.ceil" not in result.message and "bool" in result.message


@pytest.mark.parametrize("got", [[14, 28, 8], np.array([14, 28, 8]), "14, 28, 8", None, 14])
def test_int_tuple_non_tuples_are_rejected(got):
    result = compare_int_tuple(got, (14, 28, 8), what="The returned shape")
    assert not result.passed and result.details["problem"] == "type"
    assert "should be a tuple of ints, but it is" in result.message
    assert ("an array of shape (3,)" if isinstance(got, np.ndarray) else type(got).__name__) in result.message


@pytest.mark.parametrize("got", [(14, 28), (14, 28, 8, 1), ()])
def test_int_tuple_wrong_length(got):
    result = compare_int_tuple(got, (14, 28, 8))
    assert not result.passed and result.details["problem"] == "length"
    assert f"should have 3 entries, but it has {len(got)}" in result.message


def test_int_tuple_length_is_checked_before_entry_types():
    result = compare_int_tuple((14.0, 28.0), (14, 28, 8))
    assert result.details["problem"] == "length"


def test_int_tuple_wrong_values():
    result = compare_int_tuple((13, 28, 8), (14, 28, 8), what="The returned shape")
    assert not result.passed and result.details["problem"] == "values"
    assert result.message == "The returned shape is (13, 28, 8); Keras gives (14, 28, 8)."


# --- compare_int -----------------------------------------------------------------------------------------


def test_int_equal_and_numpy_int():
    assert compare_int(245, 245).passed
    assert compare_int(np.int64(245), 245).passed


@pytest.mark.parametrize("got", [245.0, np.float64(245), True, "245", None, [245]], ids=repr)
def test_int_rejects_non_ints(got):
    result = compare_int(got, 245, what="the count")
    assert not result.passed and result.details["problem"] == "type"
    assert result.message.startswith("the count should be an int, but it is")


def test_int_wrong_value():
    result = compare_int(224, 245, what="the count")
    assert not result.passed and result.details["problem"] == "values"
    assert result.message == "the count is 224; Keras gives 245."


# --- compare_float ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("got", [2.302585092994046, np.float32(2.3025851), np.float64(2.30258), 2.3025851])
def test_float_within_tolerance_passes(got):
    assert compare_float(got, float(np.float32(np.log(10)))).passed


@pytest.mark.parametrize("got", [True, np.bool_(True), "2.3", None, [2.3], np.array([2.3])])
def test_float_non_numbers_and_bools_are_type_failures(got):
    result = compare_float(got, 2.3)
    assert not result.passed and result.details["problem"] == "type"
    assert "should be a number" in result.message


@pytest.mark.parametrize("got", [float("nan"), float("inf"), np.float32("-inf")])
def test_float_non_finite_fails(got):
    result = compare_float(got, 2.3, what="The loss")
    assert not result.passed and result.details["problem"] == "nonfinite" and result.message.startswith("The loss")


def test_float_outside_tolerance_fails_and_states_both_values():
    expected = 2.302585
    inside, outside = expected * (1 + 0.9 * RTOL), expected * (1 + 2 * RTOL) + ATOL
    assert compare_float(inside, expected).passed
    result = compare_float(outside, expected, what="The loss")
    assert not result.passed and result.details["problem"] == "values"
    assert result.message == f"The loss is {outside:.7g}; Keras gives {expected:.7g}."
    assert compare_float(1, 1.0).passed  # an int is a number
