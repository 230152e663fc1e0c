"""source/ notebooks are clean source code and follow the course's nbgrader conventions."""

from __future__ import annotations

import ast
import re
from collections import Counter

import nbformat
import pytest

from conftest import ROOT, assignments, load_json

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))


def test_assignment_ids_follow_the_convention():
    """source/'s folders are the assignments (conftest.assignments(), the one list of them): NN_snake_case,
    numbered 01, 02, ... without a gap, each holding its notebook."""
    ids = assignments()
    assert ids, "no assignments in source/"
    bad = [a for a in ids if not re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*", a)]
    assert not bad, f"assignment folders not named NN_snake_case: {bad}"
    assert [int(a[:2]) for a in ids] == list(range(1, len(ids) + 1)), f"numbers with a gap: {ids}"
    empty = [a for a in ids if not list((ROOT / "source" / a).glob("*.ipynb"))]
    assert not empty, f"assignments without a notebook: {empty}"


def test_every_assignment_has_demo_answers_and_expected_scores():
    """The demo class answers every assignment, and demo/expected_scores.json says what each answer earns."""
    expected = load_json(ROOT / "demo" / "expected_scores.json")
    assert sorted(expected) == assignments(), "demo/expected_scores.json's assignments are not source/'s"
    for a in assignments():
        students = sorted(p.stem for p in (ROOT / "demo" / a).glob("*.py"))
        assert students, f"no demo answers in demo/{a}/"
        assert sorted(expected[a]) == students, f"{a}: expected scores are for {sorted(expected[a])}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_or_execution_counts(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} of {path.name} have outputs or execution counts"


def _tested(path) -> set[str]:
    """The functions that the test cells of a notebook grade (the part of their grade_id before ``__``)."""
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"].split("__")[0]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def _defined_functions(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_grade_ids_follow_the_convention(path):
    nb = nbformat.read(path, as_version=4)
    metas = [(c, c.metadata.get("nbgrader", {})) for c in nb.cells]
    ids = [m["grade_id"] for _, m in metas if "grade_id" in m]
    assert not [i for i, n in Counter(ids).items() if n > 1], "duplicate grade_ids"

    exercises: dict[str, list[str]] = {}
    for cell, meta in metas:
        if meta.get("solution") and cell.cell_type == "code":
            functions = _defined_functions(cell.source)
            assert meta["grade_id"] in functions, (
                f"solution cell {meta['grade_id']!r} must define a function of that name (defines {functions})"
            )
            assert "### BEGIN SOLUTION" in cell.source
            for name in functions:
                if not name.startswith("_"):
                    exercises[name] = []
    assert exercises, "no solution cells"

    for cell, meta in metas:
        if meta.get("grade"):
            gid = meta["grade_id"]
            assert re.fullmatch(r"[a-z0-9_]+__[a-z0-9_]+", gid), f"test cell id {gid!r} is not <name>__<what>"
            name = gid.split("__")[0]
            assert name in exercises, f"test cell {gid!r} tests no exercise function ({sorted(exercises)})"
            assert meta.get("locked") and meta.get("points", 0) > 0, gid
            exercises[name].append(cell.source)

    earlier = {name for other in NOTEBOOKS if other.parent.name < path.parent.name for name in _tested(other)}
    for name, cells in exercises.items():
        if not cells and name in earlier:
            continue  # an earlier assignment's exercise pasted in to be used, not graded again (04's conv2d)
        assert len(cells) >= 2, f"{name} needs at least two test cells for partial credit"
        visible = cells[0].split("### BEGIN HIDDEN TESTS")[0]
        assert re.search(r"^check_\w+\(", visible, re.M), f"{name}: the first test cell should run a visible check"
        assert any("### BEGIN HIDDEN TESTS" in c for c in cells), f"{name} has no hidden tests"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_an_exercise_that_carries_points_is_not_called_optional(path):
    """Issue #25 item 4: an exercise whose test cells count toward the notebook's total is required, so
    its heading must not call it optional (nbgrader has no extra credit for autograded cells: a bonus
    would have to live outside the points a notebook's test cells carry)."""
    nb = nbformat.read(path, as_version=4)
    heading, wrong = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if re.match(r"#+ .*\bExercise\b", line):
                    heading = line
        grade = cell.metadata.get("nbgrader", {})
        if grade.get("grade") and grade.get("points") and "optional" in heading.lower():
            wrong.append((heading, grade.get("grade_id")))
    assert not wrong, f"graded cells under an exercise called optional: {wrong}"
