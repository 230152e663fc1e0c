"""Plain data across the sandbox wall: round trips, and refusal of anything with behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader_utils.sandbox import protocol


def roundtrip(value, tmp_path):
    protocol.save(value, tmp_path / "v.json")
    return protocol.load(tmp_path / "v.json")


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        "text",
        (1, 2, 3),
        [(1, 2), (3,)],
        {"a": [1, (2,)]},
        float("nan"),
        float("inf"),
        (np.int64(7), np.float32(0.5)),
    ],
)
def test_plain_values_round_trip(value, tmp_path):
    got = roundtrip(value, tmp_path)
    assert repr(got) == repr(value)
    assert type(got) is type(value)


def test_arrays_round_trip_exactly(tmp_path):
    a = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    got = roundtrip({"x": a, "y": [a[0]]}, tmp_path)
    assert type(got["x"]) is np.ndarray and got["x"].dtype == np.float32 and np.array_equal(got["x"], a)


class Sub(np.ndarray):
    def __eq__(self, other):
        return True


class Liar:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "value,word",
    [
        (np.zeros(3).view(Sub), "ndarray subclass"),
        (Liar(), "Liar"),
        (np.array([object()]), "dtype object"),
        ({1: 2}, "dict"),
        (lambda: 1, "function"),
    ],
)
def test_objects_with_behaviour_become_unsupported(value, word, tmp_path):
    got = roundtrip(value, tmp_path)
    assert isinstance(got, protocol.Unsupported) and word in got.description


def test_pickles_and_malformed_data_are_refused(tmp_path):
    np.save(tmp_path / "evil.npy", np.array([object()]), allow_pickle=True)
    (tmp_path / "v.json").write_text(json.dumps({"__array__": "a0"}))
    np.savez(tmp_path / "v.npz", a0=np.array([Liar()], dtype=object), allow_pickle=True)
    with pytest.raises(protocol.ProtocolError):
        protocol.load(tmp_path / "v.json")
    (tmp_path / "v.json").write_text(json.dumps({"__mystery__": 1}))
    np.savez(tmp_path / "v.npz")
    with pytest.raises(protocol.ProtocolError, match="unknown tag"):
        protocol.load(tmp_path / "v.json")
    (tmp_path / "v.json").write_text("{not json")
    with pytest.raises(protocol.ProtocolError):
        protocol.load(tmp_path / "v.json")


def test_oversized_results_are_refused(tmp_path):
    protocol.save(np.zeros(1000), tmp_path / "v.json")
    with pytest.raises(protocol.ProtocolError, match="larger than"):
        protocol.load(tmp_path / "v.json", max_bytes=100)
