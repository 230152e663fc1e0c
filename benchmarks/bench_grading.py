"""Benchmark: what the trusted engine adds to grading the demo class.

In one run, on a private copy of the course: (1) plain `nbgrader autograde` of the
demo class of assignments 01 and 02 (the baseline), then (2) `secure_grade`, the
sandboxed engine that `make grade` runs after it. Prints seconds, seconds per
notebook and the engine's cost as a percentage of the baseline. Run with
`.venv/bin/python benchmarks/bench_grading.py`; results go in the README.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("01_convolution", "02_padding_strides_pooling")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from grader_utils.course import build_demo_class
    from grader_utils.secure_grade import secure_grade

    course = Path(tempfile.mkdtemp(prefix="bench-course-"))
    for name in ("source", "release", "demo"):
        shutil.copytree(ROOT / name, course / name)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    for a in ASSIGNMENTS:
        subprocess.run(nbgrader + ["generate_assignment", a, "--force", f"--CourseDirectory.root={course}"],
                       cwd=course, env=env, check=True, capture_output=True)
    build_demo_class(course)
    notebooks = sum(len(list((course / "submitted").glob(f"*/{a}/*.ipynb"))) for a in ASSIGNMENTS)

    start = time.perf_counter()
    for a in ASSIGNMENTS:
        subprocess.run(nbgrader + ["autograde", a, "--force", f"--CourseDirectory.root={course}"],
                       cwd=course, env=env, check=True, capture_output=True)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for a in ASSIGNMENTS:
        secure_grade(course, a)
    engine = time.perf_counter() - start
    shutil.rmtree(course, ignore_errors=True)

    print(f"demo class of {', '.join(ASSIGNMENTS)}: {notebooks} notebooks, one process, 2 cores")
    print(f"{'step':<36} {'seconds':>8} {'s/notebook':>11}")
    print(f"{'nbgrader autograde (baseline)':<36} {baseline:>8.1f} {baseline / notebooks:>11.2f}")
    print(f"{'secure_grade (sandboxed engine)':<36} {engine:>8.1f} {engine / notebooks:>11.2f}")
    print(f"engine cost: {100 * engine / baseline:.0f}% of the baseline (target: within 15%)")


if __name__ == "__main__":
    main()
