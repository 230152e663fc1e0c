"""What the instructor's test cells ask: the checks each graded cell runs, read from ``source/``.

:func:`read_specs` parses a source notebook's *auto-graded test cells* (never the submission's) into
:class:`TestSpec` objects: the cell's points and its check calls (``check_max_pool2d(max_pool2d,
"random", seed=2024)`` -> :class:`CheckCall`), which the engine plans and judges. Checks are known
from the exercise registry; a call the engine cannot run makes the cell score 0. The helpers below
pick the student's own code cells and restore the instructor's test cells.

Which cells are tests, as nbgrader decides it (``nbgrader.utils.determine_grade``): a test cell is a
*code* cell with ``grade`` and without ``solution`` (:func:`is_test_cell`); only these are scored from
their outputs, so only these are the engine's. Cells graded by hand (:func:`manual_cells`) are written
answers (Markdown, ``grade`` + ``solution``), code answers worth points (code, ``grade`` + ``solution``)
and ``task`` cells: they are the student's work (a code answer runs in the kernel like any other
student cell), never a test, and nbgrader's SaveAutoGrades alone sets their state (0 for an unchanged
answer, else "needs manual grade"; a task always waits for its grader).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..i18n import tr
from ..judge.registry import ARRAY_EXERCISES, MODEL_EXERCISES

__all__ = [
    "CheckCall",
    "TestSpec",
    "ManualCell",
    "is_test_cell",
    "is_manual_cell",
    "manual_cells",
    "read_specs",
    "release_code_cells",
    "release_demo_cells",
    "student_cells",
    "restore_test_cells",
]


@dataclass
class CheckCall:
    check: str
    func: str
    suite: str
    seed: int
    n: int | None
    funcs: list[str] = field(default_factory=list)  # model checks: the student's functions they call
    kwargs: dict[str, Any] = field(default_factory=dict)  # model checks: their keyword arguments
    hidden: bool = False  # written between BEGIN/END HIDDEN TESTS: its inputs come from the course secret

    @property
    def model(self) -> bool:
        return self.check in MODEL_EXERCISES


@dataclass
class TestSpec:
    """One test cell of the instructor's notebook."""

    grade_id: str
    points: float
    calls: list[CheckCall]
    source: str

    @property
    def engine(self) -> bool:
        return bool(self.calls) and all(c.check in ARRAY_EXERCISES or (c.model and c.funcs) for c in self.calls)


@dataclass(frozen=True)
class ManualCell:
    """A cell of the instructor's notebook graded by hand in the formgrader: ``kind`` is ``written`` (a
    Markdown answer), ``code`` (a code answer worth points) or ``task`` (a task cell)."""

    grade_id: str
    points: float
    kind: str


def _nbgrader(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell: Any) -> bool:
    """An auto-graded test cell: a code cell with ``grade`` and without ``solution`` (the only kind
    nbgrader scores from its outputs, and the only kind the engine judges)."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manual_cell(cell: Any) -> bool:
    """A cell graded by hand: a ``task`` cell, or a ``grade`` cell that is a ``solution`` (a written or code
    answer worth points) or not code."""
    meta = _nbgrader(cell)
    return bool(meta.get("task")) or (bool(meta.get("grade")) and not is_test_cell(cell))


def manual_cells(source_nb: Path) -> list[ManualCell]:
    """The cells of the instructor's notebook graded by hand, in notebook order."""
    nb = nbformat.read(source_nb, as_version=4)
    out = []
    for cell in nb.cells:
        if not is_manual_cell(cell):
            continue
        meta = _nbgrader(cell)
        kind = "task" if meta.get("task") else ("code" if cell.cell_type == "code" else "written")
        out.append(ManualCell(str(meta.get("grade_id", "")), float(meta.get("points", 0)), kind))
    return out


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def _hidden_lines(source: str) -> set[int]:
    """Line numbers (1-based) inside ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``."""
    lines, hidden = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif hidden:
            lines.add(number)
    return lines


def read_specs(source_nb: Path) -> list[TestSpec]:
    """The auto-graded test cells of the instructor's notebook (:func:`is_test_cell`; cells graded by hand
    are not tests: :func:`manual_cells`) and the checks each one runs."""
    nb = nbformat.read(source_nb, as_version=4)
    specs = []
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        meta = cell.metadata["nbgrader"]
        calls = []
        hidden = _hidden_lines(cell.source)
        try:
            tree: ast.AST = ast.parse(cell.source)
        except SyntaxError:  # IPython syntax (a magic): an ordinary test cell, run as IPython would (cells/)
            tree = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODEL_EXERCISES:
                calls.append(_model_call(node))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
                try:
                    if node.func.id not in ARRAY_EXERCISES or not node.args or not isinstance(node.args[0], ast.Name):
                        raise ValueError("not a check the engine runs")
                    kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
                except ValueError:
                    calls.append(CheckCall(node.func.id, "", "", 0, None))  # not gradable: the cell scores 0
                    continue
                suite = _literal(node.args[1]) if len(node.args) > 1 else kwargs.get("suite", "basic")
                calls.append(
                    CheckCall(node.func.id, node.args[0].id, suite, int(kwargs.get("seed", 0)), kwargs.get("n"))
                )
            else:
                continue
            calls[-1].hidden = node.lineno in hidden
        specs.append(TestSpec(meta["grade_id"], float(meta.get("points", 0)), calls, cell.source))
    return specs


def _model_call(node: ast.Call) -> CheckCall:
    """A model check call: its leading arguments name the student's functions, its keywords are
    literals or function names (``build=build_cifar_model``). Anything else is not gradable (0 points)."""
    check = node.func.id  # type: ignore[attr-defined]
    count = MODEL_EXERCISES[check].functions
    try:
        if len(node.args) != count or not all(isinstance(a, ast.Name) for a in node.args):
            raise ValueError("unexpected arguments")
        kwargs = {}
        for k in node.keywords:
            if not k.arg:
                raise ValueError("**kwargs")
            kwargs[k.arg] = k.value.id if isinstance(k.value, ast.Name) else _literal(k.value)
    except ValueError:
        return CheckCall(check, "", "", 0, None)
    funcs = [a.id for a in node.args]  # type: ignore[attr-defined]
    return CheckCall(
        check,
        funcs[0],
        "",
        int(kwargs.get("seed", 0)) if isinstance(kwargs.get("seed", 0), int) else 0,
        None,
        funcs,
        kwargs,
    )


def release_code_cells(release_nb: Path | None, tag: str | None = None) -> dict[str, str]:
    """{cell id: source} of the release notebook's code cells (only those tagged ``tag`` if given):
    what a student's notebook holds where the student changed nothing."""
    if release_nb is None or not Path(release_nb).exists():
        return {}
    nb = nbformat.read(release_nb, as_version=4)
    return {
        c.get("id", ""): c.source
        for c in nb.cells
        if c.get("cell_type") == "code" and (tag is None or tag in c.get("metadata", {}).get("tags", []))
    }


def release_demo_cells(release_nb: Path | None) -> dict[str, str]:
    """{cell id: source} of the release notebook's cells tagged ``demo`` (lesson demos and figures)."""
    return release_code_cells(release_nb, "demo")


def student_cells(nb: Any, specs: list[TestSpec], demos: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The student's code cells to run (not test cells, not unchanged lesson demos), and integrity notes."""
    test_ids = {s.grade_id for s in specs}
    demos = demos or {}
    seen: dict[str, int] = {}
    cells, notes = [], []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        if demos.get(cell.get("id", "")) == cell.get("source"):
            continue  # an unchanged lesson demo: it defines nothing the tests call, and can be slow
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in test_ids or is_test_cell(cell):
            if not cell.get("metadata", {}).get("grader_restored"):
                seen[grade_id] = seen.get(grade_id, 0) + 1
            continue
        source = cell.get("source", "")
        cells.append(source if isinstance(source, str) else "".join(source))
    for spec in specs:
        if seen.get(spec.grade_id, 0) == 0:
            notes.append(tr("test cell {test} was deleted", test=spec.grade_id))
        elif seen[spec.grade_id] > 1:
            notes.append(tr("test cell {test} appears {count} times", test=spec.grade_id, count=seen[spec.grade_id]))
    return cells, notes


def restore_test_cells(nb: Any, source_nb: Path) -> Any:
    """``nb`` with its test cells as the instructor wrote them (as nbgrader's autograde restores them):
    each test cell's source replaced by the instructor's, and a deleted one put back at the end. Answers
    graded by hand are the student's and stay as they are."""
    source = nbformat.read(source_nb, as_version=4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if is_test_cell(c)}
    seen = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in tests and cell.get("cell_type") == "code":
            cell.source = tests[grade_id].source
            cell.metadata["nbgrader"] = dict(tests[grade_id].metadata["nbgrader"])
            seen.add(grade_id)
    for grade_id, cell in tests.items():
        if grade_id not in seen:
            restored = nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata))
            restored.metadata["grader_restored"] = True  # noted as deleted (integrity), graded all the same
            nb.cells.append(restored)
    return nb
