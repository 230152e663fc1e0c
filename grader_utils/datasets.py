"""Data for the CNN notebooks: real CIFAR-10, and a small synthetic look-alike.

* :func:`load_cifar10` downloads CIFAR-10 once through Keras' own downloader and
  cache (``keras.utils.get_file``, the same file name and hash as
  ``keras.datasets.cifar10``, so both share one cached copy under
  ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``) and reads it with Keras' batch
  reader. Offline, it raises :class:`DatasetUnavailable` with a message saying what
  to do.
* :func:`make_synthetic` builds a deterministic CIFAR-shaped dataset: 32x32 RGB
  uint8 images of 10 shape classes at random positions, colours and noise. A small
  CNN learns it in seconds, so tests, CI, the demo and autograding use it.
* :func:`load_dataset` picks one and always says which on stdout; it never falls
  back from one to the other silently.

Arrays: x: (N, 32, 32, 3) uint8; y: (N,) uint8 class indices (0..9).
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass

import numpy as np

from .quiet import quiet_tensorflow

__all__ = [
    "CIFAR10_CLASSES",
    "SYNTHETIC_CLASSES",
    "CIFAR10_ORIGIN",
    "CIFAR10_SHA256",
    "Dataset",
    "DatasetUnavailable",
    "load_cifar10",
    "make_synthetic",
    "load_dataset",
    "write_cifar_archive",
    "autograding",
]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SYNTHETIC_CLASSES = ("square", "frame", "disc", "ring", "h-bar", "v-bar", "diagonal \\", "diagonal /", "plus", "cross")

# What keras.datasets.cifar10.load_data() uses (keras/src/datasets/cifar10.py).
CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_FNAME = "cifar-10-batches-py-target"


class DatasetUnavailable(RuntimeError):
    """The dataset could not be downloaded or read."""


@dataclass
class Dataset:
    """A train/test split with class names. x: (N, 32, 32, 3) uint8; y: (N,) uint8."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.name}: {len(self.x_train)} training and {len(self.x_test)} test images of shape "
            f"{self.x_train.shape[1:]}, {len(self.class_names)} classes"
        )


def autograding() -> bool:
    """True while nbgrader runs the notebook (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def load_cifar10(
    origin: str = CIFAR10_ORIGIN, file_hash: str | None = CIFAR10_SHA256, cache_dir: str | None = None
) -> Dataset:
    """CIFAR-10 through Keras' downloader and cache (163 MB, downloaded once).

    origin/file_hash/cache_dir exist so tests can serve a generated archive from
    localhost; students keep the defaults."""
    keras = quiet_tensorflow()
    from keras.src.datasets.cifar import load_batch

    try:
        path = keras.utils.get_file(
            fname=CIFAR10_FNAME, origin=origin, extract=True, file_hash=file_hash, cache_dir=cache_dir
        )
    except Exception as exc:  # urllib errors arrive wrapped in a plain Exception
        raise DatasetUnavailable(
            f"Could not download CIFAR-10 from {origin} ({exc}).\n"
            "Check your internet connection (the file is downloaded once, then read from Keras' cache in "
            '~/.keras/datasets), or set DATASET = "synthetic" to use the course\'s small synthetic dataset.'
        ) from None
    folder = os.path.join(path, "cifar-10-batches-py")
    try:
        parts = [load_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
        x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetUnavailable(
            f"CIFAR-10 in {folder} could not be read ({exc}); delete that folder and run again to download it afresh."
        ) from None
    x_train = np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1)
    y_train = np.concatenate([np.asarray(p[1]) for p in parts]).astype(np.uint8)
    return Dataset(
        "CIFAR-10",
        np.ascontiguousarray(x_train),
        y_train,
        np.ascontiguousarray(np.asarray(x_test).transpose(0, 2, 3, 1)),
        np.asarray(y_test).astype(np.uint8),
        CIFAR10_CLASSES,
    )


def _shape_masks(label: np.ndarray, cy: np.ndarray, cx: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Boolean masks (N, 32, 32) of each sample's shape, centred at (cy, cx)."""
    yy, xx = np.mgrid[0:32, 0:32]
    dy = yy[None] - cy[:, None, None]
    dx = xx[None] - cx[:, None, None]
    s = size[:, None, None]
    r = np.sqrt(dy**2 + dx**2)
    inside = (np.abs(dy) <= s) & (np.abs(dx) <= s)
    thin = np.maximum(1.0, s / 4)
    masks = [
        inside,  # 0 filled square
        inside & ((np.abs(dy) > s - thin) | (np.abs(dx) > s - thin)),  # 1 hollow square (frame)
        r <= s,  # 2 disc
        (r <= s) & (r >= s - thin - 0.5),  # 3 ring
        inside & (np.abs(dy) <= thin),  # 4 horizontal bar
        inside & (np.abs(dx) <= thin),  # 5 vertical bar
        inside & (np.abs(dy - dx) <= thin),  # 6 diagonal "\"
        inside & (np.abs(dy + dx) <= thin),  # 7 diagonal "/"
        inside & ((np.abs(dy) <= thin) | (np.abs(dx) <= thin)),  # 8 plus
        inside & ((np.abs(dy - dx) <= thin) | (np.abs(dy + dx) <= thin)),  # 9 cross
    ]
    stacked = np.stack(masks)  # (10, N, 32, 32)
    return stacked[label, np.arange(len(label))]


def make_synthetic(n_train: int = 5000, n_test: int = 1000, seed: int = 0, contrast: float | None = None) -> Dataset:
    """A deterministic CIFAR-shaped dataset of 10 shape classes (see SYNTHETIC_CLASSES).

    Each image is a noisy background with one shape of its class at a random
    position (within 6 pixels of the centre), size and colour. Classes are balanced.
    By default a shape's colour may come close to its background's; with ``contrast``
    (0 < contrast < 1) every colour channel of the shape is at least ``contrast`` brighter
    or darker than the background (half the images each), an easier task.
    """
    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        label = np.arange(n) % 10
        rng.shuffle(label)
        cy, cx = rng.integers(10, 22, size=(2, n))
        size = rng.uniform(5, 9, size=n)
        mask = _shape_masks(label, cy, cx, size)
        background = rng.uniform(0.0, 0.6, size=(n, 1, 1, 3))
        color = rng.uniform(0.3, 1.0, size=(n, 1, 1, 3))
        if contrast is not None:
            low = rng.uniform(0.0, (1.0 - contrast) / 2, size=(n, 1, 1, 3))
            high = 1.0 - rng.uniform(0.0, (1.0 - contrast) / 2, size=(n, 1, 1, 3))
            bright = (np.arange(n) % 2 == 0)[rng.permutation(n)][:, None, None, None]
            background, color = np.where(bright, low, high), np.where(bright, high, low)
        img = background + rng.normal(0, 0.08, size=(n, 32, 32, 3))
        img = np.where(mask[..., None], color + rng.normal(0, 0.05, size=(n, 32, 32, 3)), img)
        return (np.clip(img, 0, 1) * 255).round().astype(np.uint8), label.astype(np.uint8)

    x_train, y_train = part(n_train)
    x_test, y_test = part(n_test)
    return Dataset("synthetic shapes", x_train, y_train, x_test, y_test, SYNTHETIC_CLASSES)


def load_dataset(name: str = "cifar10", **synthetic_kwargs: int) -> Dataset:
    """``"cifar10"`` or ``"synthetic"``; under nbgrader autograding always the synthetic data.

    Prints which dataset is used and why."""
    if name not in ("cifar10", "synthetic"):
        raise ValueError(f'dataset must be "cifar10" or "synthetic", not {name!r}')
    if autograding() and name != "synthetic":
        data = make_synthetic(**synthetic_kwargs)
        print(
            f"Using {data.describe()}: the notebook is being autograded "
            f"(NBGRADER_EXECUTION={os.environ['NBGRADER_EXECUTION']}), and grading never downloads."
        )
        return data
    data = make_synthetic(**synthetic_kwargs) if name == "synthetic" else load_cifar10()
    print(f"Using {data.describe()}.")
    return data


def write_cifar_archive(path: str, data: Dataset) -> None:
    """Write ``data`` as a CIFAR-10 python archive (``cifar-10-python.tar.gz`` layout:
    five training batches and a test batch, pickled dicts with ``data`` (N, 3072)
    uint8 rows in channel-major order and ``labels``). Used by tests to serve a real
    archive from localhost."""
    import io
    import pickle

    def batch(x: np.ndarray, y: np.ndarray) -> bytes:
        rows = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
        return pickle.dumps({b"data": rows, b"labels": [int(v) for v in y]})

    chunks = np.array_split(np.arange(len(data.x_train)), 5)
    with tarfile.open(path, "w:gz") as tar:
        files = [(f"data_batch_{i + 1}", batch(data.x_train[c], data.y_train[c])) for i, c in enumerate(chunks)]
        files.append(("test_batch", batch(data.x_test, data.y_test)))
        for name, payload in files:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
