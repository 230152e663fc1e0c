"""Lesson figures: the 'same' padding rule they draw agrees with Keras."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from grader_utils import truth
from grader_utils.figures import draw_pooling, draw_same_padding, same_padding_amounts

matplotlib.use("Agg")
pytestmark = pytest.mark.keras


@pytest.mark.parametrize("size,kernel,stride", [(5, 2, 2), (7, 3, 2), (6, 4, 3), (28, 3, 1), (9, 1, 4)])
def test_same_padding_amounts_reproduce_keras(size, kernel, stride):
    """Padding the input as described, then a 'valid' pool, equals Keras' 'same' pool."""
    before, after = same_padding_amounts(size, kernel, stride)
    x = np.random.default_rng(size).normal(size=(size, size, 1)).astype(np.float32)
    padded = np.pad(x, ((before, after), (before, after), (0, 0)), constant_values=-np.inf)
    assert np.array_equal(truth.max_pool2d(padded, kernel, stride, "valid"),
                          truth.max_pool2d(x, kernel, stride, "same"))


def test_figures_draw():
    import matplotlib.pyplot as plt

    fig = draw_same_padding(5, 2, 2)
    assert "output 3x3" in fig.axes[0].get_title()
    fig2 = draw_pooling(np.arange(24, dtype=np.float32).reshape(4, 6), 2)
    assert len(fig2.axes) == 3
    plt.close("all")
