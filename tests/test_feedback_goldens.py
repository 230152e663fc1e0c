"""Goldens of the student-facing feedback: what a notebook's test cell prints (or raises) for classic wrong
answers, compared with committed text in tests/goldens/. ``pytest --update-goldens`` rewrites the goldens of the
tests it runs (review the diff before committing it).

Decimal numbers are compared to 4 significant digits (:func:`scrub`): Keras' float32 results may differ in
their last digits from one CPU to another, the text around them may not.

The messages are rendered through the checks the test cells call (``checks.check_<exercise>``, i.e.
``run_suite`` and ``SuiteReport.message``), and come in two tiers:

* fast (no TensorFlow): failures decided before any expected value is needed: not a function, not implemented,
  an exception on every case, a library doing a NumPy-only exercise (tests/goldens/fast/<name>.txt);
* ``keras``: every demo student's answers (demo/<assignment>/<student>.py, each written to make one classic
  mistake) through every check its notebook's test cells run, except the time rule's suites (the registry's
  ``timed``: their messages quote measured seconds). Those messages quote Keras' expected values, which Keras
  computes on every run; nothing is cached (tests/goldens/demo/<assignment>/<student>.txt).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from conftest import ROOT, assignments
from grader_utils import checks
from grader_utils.judge.registry import ARRAY_EXERCISES

GOLDENS = Path(__file__).resolve().parent / "goldens"
DECIMAL = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")


def render(check: str, func: Any, suite: str = "basic", seed: int = 0, n: int | None = None) -> str:
    """What the test cell ``check(func, suite, seed=seed, n=n)`` shows: its printed line, or the exception
    IPython shows (``CheckFailed`` is an ``AssertionError``; an unanswered exercise raises ``NotImplementedError``)."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            getattr(checks, check)(func, suite, seed=seed, n=n)
    except (AssertionError, NotImplementedError) as exc:
        return f"{printed.getvalue()}{type(exc).__name__}: {exc}\n"
    return printed.getvalue()


def scrub(text: str) -> str:
    """``text`` with every decimal number rounded to 4 significant digits (``-0.6386403`` -> ``-0.6386``)."""
    return DECIMAL.sub(lambda m: f"{float(m.group()):.4g}", text)


def assert_golden(config: pytest.Config, path: Path, text: str) -> None:
    """``text`` equals the golden file ``path``, or (``--update-goldens``) becomes it; both scrubbed."""
    text = scrub(text)
    if config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    name = path.relative_to(ROOT)
    assert path.exists(), f"no golden {name}: run `pytest --update-goldens {__file__}` and review it"
    golden = path.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(golden.splitlines(True), text.splitlines(True), f"{name} (golden)", "now"))
    assert text == golden, f"the feedback changed (pytest --update-goldens if on purpose):\n{diff}"


# --- fast: messages that need no expected value -----------------------------------------------------------


def _raises_index_error(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: Any = (1, 1), padding: str = "valid"
) -> np.ndarray:
    """conv2d reading one row past the image: an IndexError on every case."""
    return x[x.shape[0]]


def _not_implemented(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The release notebook's stub."""
    raise NotImplementedError()


def _scipy_correlate2d() -> Callable[..., np.ndarray]:
    """correlate2d handed to SciPy (imported before, as in a notebook's earlier cell): the exercise is NumPy only."""
    import scipy.signal

    def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        return scipy.signal.correlate2d(image, kernel, mode="valid").astype(image.dtype)

    return correlate2d


#: golden name -> (check, a function making the student's answer, suite)
FAST: dict[str, tuple[str, Callable[[], Any], str]] = {
    "not_a_function": ("check_correlate2d", lambda: np.zeros((3, 3)), "basic"),
    "not_implemented": ("check_correlate2d", lambda: _not_implemented, "basic"),
    "raises_on_every_case": ("check_conv2d", lambda: _raises_index_error, "basic"),
    "scipy_in_a_numpy_only_exercise": ("check_correlate2d", _scipy_correlate2d, "basic"),
}


@pytest.mark.parametrize("name", sorted(FAST))
def test_fast_feedback_matches_its_golden(request: pytest.FixtureRequest, name: str) -> None:
    check, answer, suite = FAST[name]
    assert_golden(request.config, GOLDENS / "fast" / f"{name}.txt", render(check, answer(), suite))


# --- keras: every demo student's answers --------------------------------------------------------------------

DEMO_ANSWERS = sorted(p for a in assignments() for p in (ROOT / "demo" / a).glob("*.py"))


def _helpers(source_nb: Path) -> str:
    """The notebook's helper code the answers use (``to_pair``): its plain code cells that define functions
    (not the lesson's ``demo`` cells, which may define a function for the demo they run, e.g. with Keras)."""
    return "\n\n".join(
        c.source
        for c in nbformat.read(source_nb, as_version=4).cells
        if c.cell_type == "code"
        and not c.metadata.get("nbgrader", {}).get("solution")
        and not c.metadata.get("nbgrader", {}).get("grade")
        and "demo" not in c.metadata.get("tags", [])
        and c.source.startswith("def ")
    )


def demo_feedback(answer_file: Path) -> str:
    """Every check message the demo student's answered exercises get, in the notebook's test-cell order."""
    from grader_utils.grading.specs import read_specs
    from grader_utils.instructor.demo import read_answers

    assignment = answer_file.parent.name
    answers = read_answers(answer_file)
    blocks = []
    for source_nb in sorted((ROOT / "source" / assignment).glob("*.ipynb")):
        namespace: dict[str, Callable[..., Any]] = {}
        exec("import math\nimport numpy as np\n\n" + _helpers(source_nb), namespace)
        for code in answers.values():
            exec(code, namespace)
        for spec in read_specs(source_nb):
            for call in spec.calls:
                exercise = ARRAY_EXERCISES.get(call.check)
                if exercise and call.func in answers and call.suite not in exercise.timed:
                    head = f"# {spec.grade_id}: {call.check}({call.func}, {call.suite!r}, seed={call.seed})"
                    blocks.append(head + "\n" + render(call.check, namespace[call.func], call.suite, call.seed, call.n))
    return "\n".join(blocks)


@pytest.mark.keras
@pytest.mark.parametrize("answer_file", DEMO_ANSWERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_demo_feedback_matches_its_golden(request: pytest.FixtureRequest, answer_file: Path) -> None:
    golden = GOLDENS / "demo" / answer_file.parent.name / f"{answer_file.stem}.txt"
    assert_golden(request.config, golden, demo_feedback(answer_file))


def test_every_golden_has_its_case() -> None:
    """No stale golden: each file under tests/goldens/ belongs to a case above (a removed case takes its golden)."""
    expected = {GOLDENS / "fast" / f"{name}.txt" for name in FAST}
    expected |= {GOLDENS / "demo" / p.parent.name / f"{p.stem}.txt" for p in DEMO_ANSWERS}
    stale = sorted(str(p.relative_to(ROOT)) for p in GOLDENS.rglob("*.txt") if p not in expected)
    assert not stale, f"goldens without a case (delete them): {stale}"
