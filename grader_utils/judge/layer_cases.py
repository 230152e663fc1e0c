"""Cases of assignment 05 (training a CNN well): dropout, batch normalisation, im2col, a layer's cost and
the initial loss.

A case holds inputs only; the expected answers come from :mod:`.layer_truth` at grading time. Layouts
(Keras' ``channels_last``)::

    dropout_forward(x, rate, keep_mask, training=...)
        x: float32 of any shape ((D,), (N, D), (H, W, C) or (N, H, W, C)), keep_mask: bool like x,
        rate in (0, 1)
    batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum=..., epsilon=..., training=...)
        x: (N, H, W, C) float32, the other arrays (C,) float32, moving_var > 0
    im2col(x, kernel_size, strides=..., padding=...)
        x: (H, W, C) float32; kernel_size an int or a pair; strides a pair
    conv2d_macs(input_shape, filters, kernel_size, strides=..., padding=...)
        input_shape: (H, W, C_in); kernel_size an int or a pair; strides an int or a pair
    initial_loss(num_classes)
        num_classes: int >= 2

``conv2d_im2col`` has the contract of 02's ``conv2d`` and uses its suites (family ``conv2d``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .case import Case, random_size

__all__ = [
    "LAYER_SUITES",
    "dropout_basic",
    "dropout_random",
    "batchnorm_basic",
    "batchnorm_random",
    "im2col_basic",
    "im2col_same",
    "im2col_random",
    "macs_basic",
    "macs_random",
    "loss_basic",
    "loss_random",
]


def _normal(rng: np.random.Generator, *shape: int, loc: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return rng.normal(loc, scale, size=shape).astype(np.float32)


# --- dropout_forward -------------------------------------------------------------------------------


def _dropout(rng: np.random.Generator, shape: tuple[int, ...], rate: float, training: bool) -> Case:
    x = _normal(rng, *shape)
    keep = rng.random(shape) >= rate
    return Case((x, rate, keep), {"training": training})


def dropout_basic() -> list[Case]:
    """Fixed, one case per point of the lesson: a vector of ones at rate 0.5 (kept values become 2), rate
    0.2 on a batch of vectors, rate 0.75 on an image (H, W, C), the same image at inference (the input
    unchanged, whatever the mask), and a batch of images (N, H, W, C)."""
    rng = np.random.default_rng(50)
    ones = np.ones(8, np.float32)
    mask = np.array([1, 0, 1, 1, 0, 0, 1, 0], bool)
    image = _dropout(rng, (4, 4, 3), 0.75, True)
    return [
        Case((ones, 0.5, mask), {"training": True}),
        _dropout(rng, (3, 5), 0.2, True),
        image,
        Case(image.args, {"training": False}),
        _dropout(rng, (2, 3, 3, 2), 0.4, True),
    ]


def dropout_random(rng: np.random.Generator, n: int = 16) -> list[Case]:
    """Random shapes of rank 1 to 4, rates in [0.05, 0.9], one case in four at inference."""
    cases = []
    for i in range(n):
        rank = int(rng.integers(1, 5))
        shape = tuple(int(rng.integers(1, 6)) for _ in range(rank))
        cases.append(_dropout(rng, shape, round(float(rng.uniform(0.05, 0.9)), 2), i % 4 != 3))
    return cases


# --- batchnorm_forward -----------------------------------------------------------------------------


def _batchnorm(
    rng: np.random.Generator, shape: tuple[int, int, int, int], momentum: float, epsilon: float, training: bool
) -> Case:
    c = shape[3]
    x = _normal(rng, *shape, loc=float(rng.uniform(-3, 3)), scale=float(rng.uniform(0.5, 3)))
    gamma = _normal(rng, c, loc=1.0, scale=0.5)
    beta = _normal(rng, c, scale=0.5)
    mean = _normal(rng, c)
    var = rng.uniform(0.5, 2.0, size=c).astype(np.float32)
    return Case((x, gamma, beta, mean, var), {"momentum": momentum, "epsilon": epsilon, "training": training})


def batchnorm_basic() -> list[Case]:
    """Fixed: one channel whose values are 1..8 (mean 4.5, variance 5.25: the lesson's example), then three
    channels in training, the same batch at inference (the moving statistics normalise and stay as they
    are), a batch of one image (statistics over its pixels), momentum 0.9 and a larger epsilon."""
    rng = np.random.default_rng(51)
    x1 = np.arange(1, 9, dtype=np.float32).reshape(2, 2, 2, 1)
    one = np.ones(1, np.float32)
    zero = np.zeros(1, np.float32)
    batch = _batchnorm(rng, (4, 3, 3, 3), 0.99, 1e-3, True)
    return [
        Case((x1, one, zero, zero, one), {"momentum": 0.99, "epsilon": 1e-3, "training": True}),
        batch,
        Case(batch.args, {**batch.kwargs, "training": False}),
        _batchnorm(rng, (1, 4, 5, 2), 0.99, 1e-3, True),
        _batchnorm(rng, (3, 2, 4, 4), 0.9, 0.1, True),
        _batchnorm(rng, (2, 3, 2, 3), 0.9, 1e-3, False),
    ]


def batchnorm_random(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """Random batches (N, H, W, C) with N*H*W >= 2, momentum 0.5..0.99, epsilon 1e-5..1e-1, one in three at
    inference."""
    cases = []
    for i in range(n):
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(2, 5)), int(rng.integers(1, 5)))
        momentum = float(rng.choice([0.5, 0.9, 0.99]))
        epsilon = float(rng.choice([1e-5, 1e-3, 1e-1]))
        cases.append(_batchnorm(rng, shape, momentum, epsilon, i % 3 != 2))
    return cases


# --- im2col ----------------------------------------------------------------------------------------


def _im2col(rng: np.random.Generator, shape: tuple[int, int, int], k: object, s: tuple[int, int], padding: str) -> Case:
    return Case((_normal(rng, *shape), k), {"strides": s, "padding": padding})


def im2col_basic() -> list[Case]:
    """Fixed: a 4x4 one-channel image of 0..15 with a 3x3 kernel (4 windows, 9 columns), two channels
    (columns in the order kernel row, kernel column, channel), a rectangular kernel, strides (2, 2),
    and 'same' padding with an even kernel (Keras pads the bottom/right)."""
    rng = np.random.default_rng(52)
    x1 = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    return [
        Case((x1, 3), {"strides": (1, 1), "padding": "valid"}),
        _im2col(rng, (3, 4, 2), 2, (1, 1), "valid"),
        _im2col(rng, (5, 6, 1), (2, 3), (1, 1), "valid"),
        _im2col(rng, (5, 5, 2), 3, (2, 2), "valid"),
        _im2col(rng, (4, 5, 1), 2, (1, 1), "same"),
        _im2col(rng, (6, 5, 3), 3, (2, 2), "same"),
    ]


def _im2col_random(rng: np.random.Generator, padding: str) -> Case:
    h, w, c = int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 4))
    if padding == "valid":
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        k: object = kh if kh == kw else (kh, kw)
    else:
        k = random_size(rng, 1, 4)
    return _im2col(rng, (h, w, c), k, (int(rng.integers(1, 4)), int(rng.integers(1, 4))), padding)


def im2col_same(rng: np.random.Generator, n: int = 12) -> list[Case]:
    """'same' padding: odd and even kernels, strides 1 to 3."""
    return [_im2col_random(rng, "same") for _ in range(n)]


def im2col_random(rng: np.random.Generator, n: int = 16) -> list[Case]:
    return [_im2col_random(rng, str(rng.choice(["valid", "same"]))) for _ in range(n)]


# --- conv2d_macs -----------------------------------------------------------------------------------


def macs_basic() -> list[Case]:
    """Fixed, the lesson's layers: a 3x3 convolution of a CIFAR-10 image (32x32x3) to 32 filters, 'same';
    the same at stride 2; a 5x5 'valid' one; a 1x1 bottleneck (64 -> 16 channels); a 7x7 stride-2 stem
    of a 224x224 image; a rectangular kernel with rectangular strides."""
    return [
        Case(((32, 32, 3), 32, 3), {"strides": 1, "padding": "same"}),
        Case(((32, 32, 3), 32, 3), {"strides": 2, "padding": "same"}),
        Case(((28, 28, 1), 6, 5), {"strides": 1, "padding": "valid"}),
        Case(((16, 16, 64), 16, 1), {"strides": 1, "padding": "valid"}),
        Case(((224, 224, 3), 64, 7), {"strides": 2, "padding": "same"}),
        Case(((13, 17, 4), 8, (3, 2)), {"strides": (2, 3), "padding": "valid"}),
    ]


def macs_random(rng: np.random.Generator, n: int = 10) -> list[Case]:
    """Random layers: sizes 1..40, 1..8 input channels, 1..64 filters, kernels up to 7, strides 1..3, both
    paddings."""
    cases = []
    for _ in range(n):
        h, w = int(rng.integers(1, 41)), int(rng.integers(1, 41))
        padding = str(rng.choice(["valid", "same"]))
        kmax = (min(h, 7), min(w, 7)) if padding == "valid" else (7, 7)
        kh, kw = int(rng.integers(1, kmax[0] + 1)), int(rng.integers(1, kmax[1] + 1))
        k: object = kh if kh == kw else (kh, kw)
        cases.append(
            Case(
                ((h, w, int(rng.integers(1, 9))), int(rng.integers(1, 65)), k),
                {"strides": random_size(rng, 1, 3), "padding": padding},
            )
        )
    return cases


# --- initial_loss ----------------------------------------------------------------------------------


def loss_basic() -> list[Case]:
    """Two classes, CIFAR-10's ten, a hundred (CIFAR-100) and ImageNet's thousand."""
    return [Case((2,)), Case((10,)), Case((100,)), Case((1000,))]


def loss_random(rng: np.random.Generator, n: int = 8) -> list[Case]:
    return [Case((int(rng.integers(2, 5001)),)) for _ in range(n)]


#: the families of assignment 05, merged into :data:`.cases.SUITES`
LAYER_SUITES: dict[str, dict[str, Callable[..., list[Case]]]] = {
    "dropout_forward": {
        "basic": lambda rng, n=None: dropout_basic(),
        "random": dropout_random,
    },
    "batchnorm_forward": {
        "basic": lambda rng, n=None: batchnorm_basic(),
        "random": batchnorm_random,
    },
    "im2col": {
        "basic": lambda rng, n=None: im2col_basic(),
        "same_padding": im2col_same,
        "random": im2col_random,
    },
    "conv2d_macs": {
        "basic": lambda rng, n=None: macs_basic(),
        "random": macs_random,
    },
    "initial_loss": {
        "basic": lambda rng, n=None: loss_basic(),
        "random": loss_random,
    },
}
