"""sandbox/plot_standin.py: under the NumPy-only lock ``import matplotlib.pyplot as plt`` and drawing calls work
and draw nothing; ``plt.subplots`` gives axes shaped as matplotlib's. Run in a child process (the stand-in
replaces matplotlib for the whole interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import ROOT


def _run(code: str) -> subprocess.CompletedProcess:
    boot = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from grader_utils.sandbox.plot_standin import MatplotlibStandIn
        sys.meta_path.insert(0, MatplotlibStandIn())
    """)
    return subprocess.run(
        [sys.executable, "-c", boot + textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_drawing_calls_work_and_draw_nothing():
    run = _run("""
        import matplotlib
        import matplotlib.pyplot as plt
        from matplotlib import colors
        matplotlib.use("Agg")
        fig = plt.figure(figsize=(3, 3)); plt.plot([1, 2]); plt.imshow([[0]]); plt.title("t"); plt.show()
        with plt.style.context("dark"):
            plt.savefig("never.png")
        print(getattr(matplotlib, "__file__", None), repr(plt.plot), len(plt.gca().lines), bool(fig))
        import os; print(os.path.exists("never.png"))
    """)
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.splitlines()
    assert first.startswith("None <matplotlib.pyplot.plot: not drawn while grading>") and second == "False"


def test_subplots_are_shaped_as_matplotlibs():
    run = _run("""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, 3)
        print(axes.shape)
        axes[1, 2].imshow([[0]])
        print(plt.subplots(1, 3)[1].shape, plt.subplots(2, 2, squeeze=False)[1].shape)
        print(type(plt.subplots()[1]).__name__)
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["(2, 3)", "(3,) (2, 2)", "_NoOp"]


def test_without_the_stand_in_matplotlib_is_the_real_one():
    """The tests above can fail: the real matplotlib has a file."""
    run = subprocess.run(
        [sys.executable, "-c", "import matplotlib; print(matplotlib.__file__ is not None)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip() == "True"
