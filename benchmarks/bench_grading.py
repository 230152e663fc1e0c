"""Benchmark: grading the demo class, trusted and parallel, against plain nbgrader.

In one run, each on a fresh private copy of the course with the demo class of the chosen
assignments (default 01 and 02):

1. ``nbgrader autograde`` with nbgrader's own, unsandboxed kernel, one submission after
   another (the baseline: what a course without this project does);
2. ``grade --jobs 1``: the course's pipeline, sequential (one sandboxed run per notebook: the
   student's cells and the trusted engine's calls in the same kernel);
3. ``grade --jobs N`` (default 2): the same, in parallel;
4. the floor: start a plain kernel and run each submitted notebook once (nbclient), nothing else.

Prints seconds, seconds per submission and the ratios issue #11 asks about: parallel vs the
baseline (target: at least 3x faster), and parallel seconds per submission vs the floor (target:
at most 1.1x); and sequential vs the baseline. Run with
``.venv/bin/python benchmarks/bench_grading.py [--jobs N] [--assignments ...]``; the latest
results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def make_course(assignments: list[str], sandboxed_config: bool = True) -> Path:
    """A private course copy with release/ generated and the demo class submitted."""
    from grader_utils.instructor.demo import build_demo_class

    course = Path(tempfile.mkdtemp(prefix="bench-course-"))
    for name in ("source", "demo"):
        shutil.copytree(ROOT / name, course / name)
    config = (ROOT / "nbgrader_config.py").read_text()
    if not sandboxed_config:  # plain nbgrader: its own Execute preprocessor, unsandboxed kernel
        config = config[: config.index("# Autograding runs each student's kernel")]
    (course / "nbgrader_config.py").write_text(config)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for a in sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()):
        subprocess.run(
            [str(BIN / "nbgrader"), "generate_assignment", a, "--force", f"--CourseDirectory.root={course}"],
            cwd=course,
            env=env,
            check=True,
            capture_output=True,
        )
    build_demo_class(course)
    for folder in (course / "submitted").glob("*/*"):
        if folder.name not in assignments:
            shutil.rmtree(folder)
    return course


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="+", default=["01_convolution", "02_padding_strides_pooling"])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")

    def nbgrader_sequential(course: Path) -> None:
        for a in args.assignments:
            subprocess.run(
                [str(BIN / "nbgrader"), "autograde", a, "--force", f"--CourseDirectory.root={course}"],
                cwd=course,
                env=env,
                check=True,
                capture_output=True,
            )

    def pipeline(course: Path, jobs: int) -> None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader_utils",
                "grade",
                *args.assignments,
                "--jobs",
                str(jobs),
                "--no-progress",
                "--root",
                str(course),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or re.search(r"[1-9]\d* (failed|timed out)", proc.stdout):
            raise SystemExit(f"grading failed:\n{proc.stdout}\n{proc.stderr}")

    def floor(course: Path) -> None:
        import nbformat
        from nbclient import NotebookClient

        for nb_path in sorted(course.glob("submitted/*/*/*.ipynb")):
            nb = nbformat.read(nb_path, as_version=4)
            NotebookClient(
                nb,
                timeout=600,
                allow_errors=True,
                kernel_name="python3",
                resources={"metadata": {"path": str(nb_path.parent)}},
            ).execute()

    results = {}
    courses = []
    plain = make_course(args.assignments, sandboxed_config=False)
    courses.append(plain)
    n = len(list(plain.glob("submitted/*/*/*.ipynb")))
    results["nbgrader autograde, sequential (baseline)"] = timed(lambda: nbgrader_sequential(plain))
    runs = (("grade --jobs 1 (sandbox + engine)", 1), (f"grade --jobs {args.jobs} (sandbox + engine)", args.jobs))
    for label, jobs in runs:
        course = make_course(args.assignments)
        courses.append(course)
        results[label] = timed(lambda course=course, jobs=jobs: pipeline(course, jobs))
    floor_course = make_course(args.assignments)
    courses.append(floor_course)
    results["floor: start a kernel, run the notebook once"] = timed(lambda: floor(floor_course))
    for course in courses:
        shutil.rmtree(course, ignore_errors=True)

    base, seq, par, low = results.values()
    print(f"demo class of {', '.join(args.assignments)}: {n} submitted notebooks, {os.cpu_count()} cores")
    print("| step | seconds | s/submission | vs baseline |\n|---|---|---|---|")
    for label, seconds in results.items():
        print(f"| {label} | {seconds:.1f} | {seconds / n:.2f} | {base / seconds:.2f}x |")
    print(f"sandboxed sequential grading is {base / seq:.2f}x faster than sequential nbgrader")
    print(f"parallel grading is {base / par:.2f}x faster than sequential nbgrader (target: at least 3x)")
    print(f"parallel s/submission is {par / low:.2f}x the floor (target: at most 1.1x)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
