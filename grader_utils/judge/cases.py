"""The case suites of every exercise family, and :func:`suite_cases` to make one.

A suite is a factory taking a NumPy Generator: fixed suites (``basic``, ``edge``) ignore it, random
ones are seeded, so one notebook always gets the same cases. The cases themselves are made in
:mod:`.shape_cases`, :mod:`.stack_cases`, :mod:`.array_cases`, (04's gradients) :mod:`.grad_cases` and
(05) :mod:`.layer_cases`; they never hold expected answers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .array_cases import (
    conv_basic,
    conv_large,
    conv_random,
    conv_same,
    conv_same_fixed,
    conv_strided,
    conv_strides,
    conv_valid,
    conv_valid_random,
    correlate_basic,
    correlate_random,
    pool_values_basic,
    pool_values_random,
    pool_values_same,
    pool_values_same_fixed,
    pool_values_strides,
    pool_values_strides_random,
    pool_values_valid,
    pool_values_valid_random,
)
from .case import Case
from .grad_cases import GRAD_SUITES
from .layer_cases import LAYER_SUITES
from .shape_cases import (
    conv_params_basic,
    conv_params_random,
    conv_shape_basic,
    conv_shape_random,
    conv_shape_same_strided,
    dense_params_basic,
    dense_params_random,
    pool_shape_basic,
    pool_shape_random,
)
from .stack_cases import (
    receptive_field_basic,
    receptive_field_random,
    sequential_basic,
    sequential_edge,
    sequential_random,
)

__all__ = ["SUITES", "suite_cases"]


#: suite name -> factory taking a NumPy Generator (fixed suites ignore it)
SUITES: dict[str, dict[str, Callable[..., list[Case]]]] = {
    "conv2d_output_shape": {
        "basic": lambda rng, n=None: conv_shape_basic(),
        "same_strides": conv_shape_same_strided,
        "random": conv_shape_random,
    },
    "pool2d_output_shape": {
        "basic": lambda rng, n=None: pool_shape_basic(),
        "random": pool_shape_random,
    },
    "pool2d_values": {
        "basic": lambda rng, n=None: pool_values_basic(),
        "random": pool_values_random,
        # one per taught feature (02's test cells): the visible check, then the hidden test
        "valid": lambda rng, n=None: pool_values_valid(),
        "valid_random": pool_values_valid_random,
        "strides": lambda rng, n=None: pool_values_strides(),
        "strides_random": pool_values_strides_random,
        "same": lambda rng, n=None: pool_values_same_fixed(),
        "same_random": pool_values_same,
    },
    "dense_param_count": {
        "basic": lambda rng, n=None: dense_params_basic(),
        "random": dense_params_random,
    },
    "conv2d_param_count": {
        "basic": lambda rng, n=None: conv_params_basic(),
        "random": conv_params_random,
    },
    "correlate2d": {
        "basic": lambda rng, n=None: correlate_basic(),
        "random": correlate_random,
    },
    "conv2d": {
        "basic": lambda rng, n=None: conv_basic(),
        "random": conv_random,
        "large": conv_large,
        # one per taught feature (02's test cells): the visible check, then the hidden test
        "valid": lambda rng, n=None: conv_valid(),
        "valid_random": conv_valid_random,
        "strides": lambda rng, n=None: conv_strides(),
        "strides_random": conv_strided,
        "same": lambda rng, n=None: conv_same_fixed(),
        "same_random": conv_same,
    },
    "sequential": {
        "basic": lambda rng, n=None: sequential_basic(),
        "edge": lambda rng, n=None: sequential_edge(),
        "random": sequential_random,
    },
    "receptive_field": {
        "basic": lambda rng, n=None: receptive_field_basic(),
        "random": receptive_field_random,
    },
    **GRAD_SUITES,
    **LAYER_SUITES,
}


def suite_cases(family: str, suite: str, seed: int = 0, n: int | None = None) -> list[Case]:
    """The cases of one suite, e.g. ``suite_cases("pool2d_values", "random", seed=7)``."""
    try:
        factory = SUITES[family][suite]
    except KeyError:
        raise ValueError(
            f"no suite {suite!r} for {family!r}; known: { {f: sorted(s) for f, s in SUITES.items()} }"
        ) from None
    rng = np.random.default_rng(seed)
    return factory(rng) if n is None else factory(rng, n)
