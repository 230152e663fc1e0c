"""Benchmark: the course's reference conv2d (loop over output pixels), conv2d_fast
(loop over kernel offsets) and Keras' Conv2D, on the same input, in one run.

Prints seconds per call (best of several repeats) and each speed as a ratio to the
loop version measured in this run. Run with `make bench` (or
`.venv/bin/python benchmarks/bench_conv2d.py`); results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import nbformat
import numpy as np

from grader_utils import quiet_tensorflow
from grader_utils.judge import truth

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "source" / "02_padding_strides_pooling" / "padding_strides_pooling.ipynb"


def reference_functions() -> dict:
    """conv2d and conv2d_fast as written in the instructor's notebook."""
    ns: dict = {}
    exec("import math\nimport numpy as np", ns)
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (
            meta.get("grade_id") in ("conv2d", "conv2d_fast") or "def to_pair" in cell.source
        ):
            exec(cell.source, ns)
    return ns


def best_time(func, repeat: int, number: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="input height and width (default 64)")
    parser.add_argument("--c-in", type=int, default=16)
    parser.add_argument("--c-out", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    keras = quiet_tensorflow()
    ns = reference_functions()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.size, args.size, args.c_in)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, args.c_in, args.c_out)).astype(np.float32)
    bias = rng.normal(size=args.c_out).astype(np.float32)

    layer = keras.layers.Conv2D(args.c_out, (3, 3), padding="same")
    layer.build((None, *x.shape))
    layer.set_weights([kernel, bias])
    batch = x[None]

    expected = truth.conv2d(x, kernel, bias, (1, 1), "same")
    for name in ("conv2d", "conv2d_fast"):
        got = ns[name](x, kernel, bias, (1, 1), "same")
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4), f"{name} disagrees with Keras"

    runs = {
        "conv2d (loop over pixels)": (lambda: ns["conv2d"](x, kernel, bias, (1, 1), "same"), 1),
        "conv2d_fast (loop over offsets)": (lambda: ns["conv2d_fast"](x, kernel, bias, (1, 1), "same"), 20),
        "keras Conv2D (eager)": (lambda: layer(batch), 20),
    }
    times = {name: best_time(func, args.repeat, number) for name, (func, number) in runs.items()}
    baseline = times["conv2d (loop over pixels)"]
    print(
        f"input {x.shape}, kernel {kernel.shape}, padding 'same'; {platform.machine()}, "
        f"NumPy {np.__version__}, Keras {keras.__version__}; best of {args.repeat}"
    )
    print(f"{'implementation':<34} {'seconds/call':>13} {'speed vs loop':>14}")
    for name, seconds in times.items():
        print(f"{name:<34} {seconds:>13.5f} {baseline / seconds:>13.1f}x")


if __name__ == "__main__":
    main()
