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


# --------------------------------------------------------------------------- bounds (issue #23.1)


def _npz_with(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip archive whose entry ``name`` holds ``header`` then ``zeros`` zero bytes, deflated: what a
    student can write with ``np.savez_compressed`` or by hand, header and data free to disagree."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (header, zeros) in entries.items():
            with zf.open(name, "w") as f:
                f.write(header)
                block = bytes(1024**2)
                for start in range(0, zeros, len(block)):
                    f.write(block[: min(len(block), zeros - start)])
    return buffer.getvalue()


def _header(shape, dtype="<f8", version=(1, 0)) -> bytes:
    import io

    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return np.lib.format.magic(*version) + out.getvalue()[8:] if version != (1, 0) else out.getvalue()


def _peak(fn):
    """(what fn returned or raised, the peak of Python allocations while it ran, in bytes)"""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            got = fn()
        except Exception as exc:  # noqa: BLE001
            got = exc
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_header_claiming_gigabytes_is_refused_before_any_inflation():
    # the attack: a 3 GiB array, which np.savez_compressed makes a ~3 MB file; the header says it
    bomb = _npz_with({"a0.npy": (_header((3 * 1024**3 // 8,)), 8 * 1024**2)})
    assert len(bomb) < 100_000
    got, peak = _peak(lambda: protocol.loads(b'{"__array__": "a0"}', bomb))
    assert isinstance(got, protocol.ProtocolError) and "larger than" in str(got), got
    assert peak < 4 * 1024**2, peak


def test_data_longer_than_its_header_stops_at_the_header_size():
    # a small header over 200 MB of zeros: read in bounded chunks, refused after one byte too many
    bomb = _npz_with({"a0.npy": (_header((10,)), 200 * 1024**2)})
    got, peak = _peak(lambda: protocol.loads(b'{"__array__": "a0"}', bomb))
    assert isinstance(got, protocol.ProtocolError) and "longer than" in str(got), got
    assert peak < 4 * 1024**2, peak


def test_all_arrays_together_are_capped():
    bounds = protocol.Bounds(max_array_bytes=1000, max_total_bytes=1500)
    npz = protocol.dumps([np.zeros(100), np.zeros(100)])[1]  # 800 bytes each
    with pytest.raises(protocol.ProtocolError, match="larger than the 700 bytes"):
        protocol.read_arrays(npz, bounds)
    assert len(protocol.read_arrays(protocol.dumps([np.zeros(100)])[1], bounds)) == 1


@pytest.mark.parametrize(
    "header,word",
    [
        (_header((3,), "|O"), "dtype object"),
        (_header((3,), [("a", "<f8"), ("b", "<i4")]), "numbers only"),
        (_header((3,), "<U5"), "numbers only"),
        (_header((1,) * 40), "shape"),
        (_header((3,), "<f8", version=(9, 0)), "version"),
    ],
)
def test_headers_of_anything_but_plain_numbers_are_refused(header, word):
    with pytest.raises(protocol.ProtocolError, match=word):
        protocol.read_arrays(_npz_with({"a0.npy": (header, 24)}))


def test_many_entries_are_refused_from_the_end_record():
    npz = protocol.dumps([np.zeros(1)] * 20)[1]
    with pytest.raises(protocol.ProtocolError, match="20 arrays"):
        protocol.read_arrays(npz, protocol.Bounds(max_arrays=10))


def test_short_data_long_text_and_non_zip_bytes_are_refused():
    with pytest.raises(protocol.ProtocolError, match="shorter"):
        protocol.read_arrays(_npz_with({"a0.npy": (_header((10,)), 40)}))
    with pytest.raises(protocol.ProtocolError, match="text is larger"):
        protocol.loads(b"[" + b"0," * 100 + b"0]", protocol.dumps(None)[1], protocol.Bounds(max_json_bytes=100))
    with pytest.raises(protocol.ProtocolError, match="not a zip"):
        protocol.read_arrays(b"not a zip at all")


def test_fortran_order_empty_and_scalar_arrays_round_trip(tmp_path):
    values = [
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.zeros((0, 4), np.int8),
        np.array(3.5),
        1j * np.ones(2),
    ]
    got = roundtrip(values, tmp_path)
    for a, b in zip(got, values):
        assert type(a) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert got[0].flags.writeable
