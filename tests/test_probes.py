"""grading/probes.py: calls go into the probe folder and results come out as plain data; anything but a plain
file of bounded size (a link, a folder, a FIFO) is refused, since the kernel can write there."""

from __future__ import annotations

import os

import numpy as np
import pytest

from grader_utils.grading.probes import _probe_source, _Probes
from grader_utils.sandbox import protocol

CALL = {"func": "conv2d", "args": [np.arange(6, dtype=np.float32).reshape(2, 3)], "kwargs": {"padding": "same"}}


@pytest.fixture
def probes(tmp_path):
    p = _Probes(tmp_path)
    yield p
    p.close()


def _put_result(folder, index: int, value) -> None:
    text, npz = protocol.dumps(value)
    (folder / f"result_{index}.json").write_bytes(text)
    (folder / f"result_{index}.npz").write_bytes(npz)


def test_a_call_goes_in_and_its_result_comes_out(probes, tmp_path):
    probes.put_call(3, CALL)
    back = protocol.load(tmp_path / "call_3.json")
    assert back["func"] == "conv2d" and np.array_equal(back["args"][0], CALL["args"][0])
    assert not probes.has_result(3)
    _put_result(tmp_path, 3, {"status": "ok", "value": np.ones(2, np.float32)})
    assert probes.has_result(3)
    result = probes.result(3)
    assert result["status"] == "ok" and np.array_equal(result["value"], np.ones(2, np.float32))
    probes.put_call(3, CALL)  # a new call of the same index: the old result is gone
    assert not probes.has_result(3)


def test_a_result_that_is_a_link_is_never_followed(probes, tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-outside.json"
    text, npz = protocol.dumps({"status": "ok"})
    secret.write_bytes(text)
    os.symlink(secret, tmp_path / "result_1.json")
    (tmp_path / "result_1.npz").write_bytes(npz)
    assert not probes.has_result(1)
    with pytest.raises(OSError):
        probes.result(1)


def test_a_result_that_is_not_a_plain_file_is_refused(probes, tmp_path):
    (tmp_path / "result_2.json").mkdir()
    assert not probes.has_result(2)
    os.mkfifo(tmp_path / "result_4.json")
    (tmp_path / "result_4.npz").write_bytes(protocol.dumps({})[1])
    with pytest.raises(protocol.ProtocolError):
        probes.result(4)  # opened without blocking, then refused: not a plain file


def test_an_oversized_result_is_refused(probes, tmp_path):
    _put_result(tmp_path, 5, {"status": "ok"})
    with pytest.raises(protocol.ProtocolError):
        probes._read("result_5.json", max_bytes=2)


def test_the_probe_source_runs_the_sandboxs_probe():
    expected = "__import__('grader_utils.sandbox.probe').sandbox.probe.run(7, '/tmp/p', 20)"
    assert _probe_source(7, "/tmp/p", 20) == expected
