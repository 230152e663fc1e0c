"""cells/codec.py: plain data across the wall, both ways; everything else refused, every cap checked before work."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from grader_utils.cells import codec


def roundtrip(value):
    return codec.decode(codec.encode(value))


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -7, 10**40, 1.5, -0.0, float("inf"), complex(1, -2), "héllo", b"\x00\xff",
        [1, [2, "x"]], (1, (2.5, None)), {"a": 1, 2: [3], (1, 2): {"b"}}, {1, 2, 3}, frozenset({"x"}), [], (), {},
    ],
)  # fmt: skip
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)
    if type(value) is float:
        assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_comes_back_as_nan():
    assert math.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int64", "uint16", "float32", "float64", "complex128"])
def test_arrays_keep_dtype_shape_and_values(dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = roundtrip([a, a[:, ::2].T])
    assert type(back[0]) is np.ndarray and back[0].dtype == a.dtype and back[0].shape == a.shape
    np.testing.assert_array_equal(back[0], a)
    np.testing.assert_array_equal(back[1], a[:, ::2].T)
    assert back[0].flags.writeable


def test_numpy_scalars_keep_their_type():
    for v in (np.float32(1.25), np.int64(-3), np.bool_(True), np.complex64(1j)):
        back = roundtrip(v)
        assert type(back) is type(v) and back == v


class EqualsEverything(list):
    def __eq__(self, other):
        return True


class OwnEq:
    def __eq__(self, other):
        return True


class Lazy:
    def __getattr__(self, name):
        return getattr([1, 2, 3], name)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (EqualsEverything([1]), "subclass of list"),
        (OwnEq(), "OwnEq"),
        ((x for x in range(3)), "generator"),
        (Lazy(), "Lazy"),
        (np.array([1, "a"], dtype=object), "dtype object"),
        (np.arange(3).view(np.ma.MaskedArray), "subclass of ndarray"),
        (np.zeros(2, dtype=[("a", "f4")]), "not plain numbers"),
        (type("MyInt", (int,), {})(5), "subclass of int"),
        (type("MyStr", (str,), {})("x"), "subclass of str"),
        (np.datetime64("2020-01-01"), "datetime64"),
    ],
)
def test_anything_else_is_refused_with_what_it_was(value, words):
    back = roundtrip([1, value])
    assert back[0] == 1 and isinstance(back[1], codec.Refused)
    assert words in back[1].description
    with pytest.raises(codec.CodecError, match="not plain data"):
        codec.encode(value, strict=True)


def test_a_dict_subclass_inside_a_dict_key_is_refused_not_trusted():
    back = roundtrip({"k": type("D", (dict,), {})()})
    assert isinstance(back["k"], codec.Refused)


def _frame(header: object, tail: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + tail


def test_an_array_larger_than_its_frame_is_refused_before_allocating():
    huge = _frame({"a": ["<f8", [10**6, 10**6]]})
    with pytest.raises(codec.CodecError, match="does not fit"):
        codec.decode(huge)


@pytest.mark.parametrize(
    "header",
    [
        {"a": ["|O", [1]]},
        {"a": ["<f8", [-1]]},
        {"n": ["|O", "1"]},
        {"x": 1},
        {"i": 5},
        [1, 2],
        5,
        {"d": [[{"l": []}, None]]},
        {"c": ["1", "2", "3"]},
    ],
)
def test_malformed_frames_raise(header):
    with pytest.raises(codec.CodecError):
        codec.decode(_frame(header))


def test_bytes_left_over_and_short_frames_raise():
    with pytest.raises(codec.CodecError, match="left over"):
        codec.decode(_frame(None, b"xx"))
    with pytest.raises(codec.CodecError):
        codec.decode(b"\x01")
    with pytest.raises(codec.CodecError, match="longer than"):
        codec.decode(struct.pack("<Q", 100) + b"{}")


def test_caps_on_size_count_and_depth():
    small = codec.Limits(frame_bytes=1000, items=50, depth=5, text_bytes=100)
    with pytest.raises(codec.CodecError):
        codec.encode(np.zeros(1000), small)
    with pytest.raises(codec.CodecError):
        codec.encode(list(range(100)), small)
    with pytest.raises(codec.CodecError):
        codec.encode([[[[[[[1]]]]]]], small)
    with pytest.raises(codec.CodecError):
        codec.encode("x" * 101, small)
    deep = [1]
    for _ in range(10):
        deep = [deep]
    with pytest.raises(codec.CodecError):
        codec.decode(codec.encode(deep), small)
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(codec.CodecError):
        codec.encode(nested)


def test_huge_int_text_is_a_codec_error():
    with pytest.raises(codec.CodecError):
        codec.decode(_frame({"i": "9" * 100_000}))


def test_handles_and_models_cross_as_tags():
    back = roundtrip([codec.Handle(3, "relu"), codec.Model('{"class_name": "Sequential"}')])
    assert back == [codec.Handle(3, "relu"), codec.Model('{"class_name": "Sequential"}')]


def test_describe_names_the_class():
    assert "EqualsEverything" in codec.describe(EqualsEverything())
