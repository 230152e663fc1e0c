"""Datasets: the real CIFAR-10 code path (Keras' downloader, hash check, cache, batch reader)
run against an archive that the test generates and serves from localhost; the synthetic
data; and the rule that a run always says which data it uses."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from grader_utils import datasets
from grader_utils.datasets import DatasetUnavailable, load_cifar10, make_synthetic, write_cifar_archive

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A CIFAR-10-format archive of synthetic images, served over HTTP on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("served")
    data = make_synthetic(n_train=50, n_test=20, seed=3)
    path = folder / "cifar-10-python.tar.gz"
    write_cifar_archive(str(path), data)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}/cifar-10-python.tar.gz",
        "sha256": sha256,
        "data": data,
        "server": server,
    }
    server.shutdown()


def test_download_extract_and_read_through_keras(archive, tmp_path):
    got = load_cifar10(origin=archive["url"], file_hash=archive["sha256"], cache_dir=str(tmp_path))
    want = archive["data"]
    assert got.x_train.shape == (50, 32, 32, 3) and got.x_train.dtype == np.uint8
    assert np.array_equal(got.x_train, want.x_train) and np.array_equal(got.y_train, want.y_train)
    assert np.array_equal(got.x_test, want.x_test) and np.array_equal(got.y_test, want.y_test)
    assert got.class_names == datasets.CIFAR10_CLASSES
    assert (tmp_path / "datasets" / f"{datasets.CIFAR10_FNAME}_archive").exists()


def test_second_load_comes_from_the_cache(archive, tmp_path):
    load_cifar10(origin=archive["url"], file_hash=archive["sha256"], cache_dir=str(tmp_path))
    closed = _closed_port_url()
    again = load_cifar10(origin=closed, file_hash=archive["sha256"], cache_dir=str(tmp_path))
    assert np.array_equal(again.x_test, archive["data"].x_test)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


def test_offline_gives_a_clear_message(tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        load_cifar10(origin=_closed_port_url(), cache_dir=str(tmp_path))
    message = str(info.value)
    assert "Could not download CIFAR-10" in message and 'DATASET = "synthetic"' in message


def test_a_corrupted_download_is_refused(archive, tmp_path):
    with pytest.raises(DatasetUnavailable, match="Could not download"):
        load_cifar10(origin=archive["url"], file_hash="0" * 64, cache_dir=str(tmp_path))


def test_default_origin_and_hash_are_keras_own():
    import inspect

    from keras.src.datasets import cifar10

    source = inspect.getsource(cifar10.load_data)
    assert datasets.CIFAR10_ORIGIN in source and datasets.CIFAR10_SHA256 in source
    assert f'"{datasets.CIFAR10_FNAME}"' in source


def test_synthetic_data_is_deterministic_balanced_and_cifar_shaped():
    a, b, c = make_synthetic(200, 100, seed=0), make_synthetic(200, 100, seed=0), make_synthetic(200, 100, seed=1)
    assert a.x_train.shape == (200, 32, 32, 3) and a.x_train.dtype == np.uint8 and a.y_train.dtype == np.uint8
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert np.bincount(a.y_train, minlength=10).tolist() == [20] * 10
    assert len(a.class_names) == 10


def test_load_dataset_says_which_data_it_uses(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    data = datasets.load_dataset("synthetic", n_train=20, n_test=10)
    assert data.name == "synthetic shapes"
    assert "Using synthetic shapes: 20 training and 10 test images" in capsys.readouterr().out


def test_autograding_always_uses_synthetic_and_says_why(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    data = datasets.load_dataset("cifar10", n_train=20, n_test=10)
    out = capsys.readouterr().out
    assert data.name == "synthetic shapes"
    assert "being autograded (NBGRADER_EXECUTION=autograde)" in out


def test_unknown_dataset_name_is_an_error():
    with pytest.raises(ValueError, match="cifar10"):
        datasets.load_dataset("mnist")


def test_contrast_makes_every_shape_stand_out_in_every_channel():
    """make_synthetic(contrast=...) (the graded training run's data): every image has, in every colour
    channel, a shape far from its background; the default data has many that do not."""

    def pixels_far_from_background(x):  # per image and channel: pixels > 0.3 from the median (background)
        x = x.astype(float) / 255
        return (np.abs(x - np.median(x, axis=(1, 2), keepdims=True)) > 0.3).sum(axis=(1, 2))

    easy = make_synthetic(n_train=300, n_test=100, seed=3, contrast=0.5)
    assert pixels_far_from_background(easy.x_train).min() >= 15
    assert pixels_far_from_background(easy.x_test).min() >= 15
    assert np.bincount(easy.y_train).tolist() == [30] * 10
    default = make_synthetic(n_train=300, n_test=100, seed=3)
    assert np.mean(pixels_far_from_background(default.x_train) < 15) > 0.2
    assert np.array_equal(default.x_train, make_synthetic(n_train=300, n_test=100, seed=3, contrast=None).x_train)
