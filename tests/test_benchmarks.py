"""The benchmarks still run (on a tiny input): they must not rot between README updates.
This checks that they work, not how fast anything is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.keras


def test_conv2d_benchmark_runs_and_reports_ratios():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_conv2d.py"), "--size", "12",
                           "--c-in", "2", "--c-out", "3", "--repeat", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.rstrip().endswith("x")]
    assert [r.split("  ")[0] for r in rows] == ["conv2d (loop over pixels)", "conv2d_fast (loop over offsets)",
                                                "keras Conv2D (eager)"]
    assert rows[0].rstrip().endswith("1.0x")
