"""grader_utils.judge.shapes: reading kernel_size/strides/pool_size and padding as Keras does."""

from __future__ import annotations

import numpy as np
import pytest

from grader_utils.judge.shapes import as_pair, check_padding, is_int

NUMPY_INTS = [np.int8(3), np.int16(3), np.int32(3), np.int64(3), np.uint8(3), np.uint64(3), np.intp(3)]


# --- is_int -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 3, -2, 10**20, *NUMPY_INTS], ids=repr)
def test_is_int_accepts_python_and_numpy_ints(value):
    assert is_int(value) is True


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)], ids=repr)
def test_is_int_rejects_bools(value):
    assert is_int(value) is False


@pytest.mark.parametrize(
    "value", [3.0, 14.0, np.float32(3), np.float64(3.0), 3 + 0j, "3", None, (3,), np.array(3), np.array([3])], ids=repr
)
def test_is_int_rejects_floats_and_non_numbers(value):
    assert is_int(value) is False


# --- as_pair ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        (3, (3, 3)),
        (1, (1, 1)),
        ((3, 2), (3, 2)),
        ([3, 2], (3, 2)),
        ((np.int64(2), np.int32(5)), (2, 5)),
        (np.int64(4), (4, 4)),
    ],
)
def test_as_pair_reads_like_keras(value, expected):
    got = as_pair(value)
    assert got == expected
    assert type(got) is tuple
    assert all(type(v) is int for v in got), "entries must be plain Python ints"


@pytest.mark.parametrize(
    "value",
    [
        3.0,
        (3.0, 2),
        (3, 2.0),
        True,
        (True, 2),
        (2, False),
        "3",
        None,
        (3,),
        (1, 2, 3),
        [],
        np.array([2, 2]),
        {3, 2},
        (np.float64(2), 2),
    ],
    ids=repr,
)
def test_as_pair_rejects_everything_else(value):
    with pytest.raises(ValueError, match="pool_size must be an int or a pair of ints"):
        as_pair(value, name="pool_size")


def test_as_pair_error_names_the_value():
    with pytest.raises(ValueError, match=r"kernel_size .*\(3, 2, 1\)"):
        as_pair((3, 2, 1), name="kernel_size")


# --- check_padding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("valid", "valid"),
        ("same", "same"),
        ("SAME", "same"),
        ("Valid", "valid"),
        ("sAmE", "same"),
    ],
)
def test_check_padding_accepts_any_case(value, expected):
    assert check_padding(value) == expected


@pytest.mark.parametrize("value", ["full", "causal", "", " same", None, 0, b"same", ["same"]], ids=repr)
def test_check_padding_rejects_others(value):
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        check_padding(value)


def test_same_pads_is_keras_split_per_axis_and_swapped_is_the_mirror():
    from grader_utils.judge.shapes import same_padding_amounts, same_pads

    for shape, k, s in [((5, 6, 1), (2, 3), (2, 1)), ((3, 3, 2), (2, 2), (2, 2)), ((7, 4), (4, 1), (3, 2))]:
        rows, cols = same_padding_amounts(shape[0], k[0], s[0]), same_padding_amounts(shape[1], k[1], s[1])
        assert same_pads(shape, k, s) == (rows, cols)
        assert same_pads(shape, k, s, swapped=True) == (rows[::-1], cols[::-1])
