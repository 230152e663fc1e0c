"""The benchmarks still run (on a tiny input): they must not rot between README updates.
This checks that they work, not how fast anything is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.keras


def test_conv2d_benchmark_runs_and_reports_ratios():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_conv2d.py"),
            "--size",
            "12",
            "--c-in",
            "2",
            "--c-out",
            "3",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.rstrip().endswith("x")]
    assert [r.split("  ")[0] for r in rows] == [
        "conv2d (loop over pixels)",
        "conv2d_fast (loop over offsets)",
        "keras Conv2D (eager)",
    ]
    assert rows[0].rstrip().endswith("1.0x")


def test_training_check_benchmark_runs_and_reports_margins():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_training_check.py"),
            "--seeds",
            "0",
            "--only",
            "one-hot-loss",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("good", "broken"))]
    assert [r.split()[:2] for r in rows] == [["broken", "one-hot-loss"]]
    assert "highest of a broken answer: 0.0%" in proc.stdout and "every verdict right" in proc.stdout
