"""Check an assignment before release: how each graded cell of the instructor's notebook will be graded, and what
the secure grader cannot grade, by (cell, line, reason) (``cnn-course check ASSIGNMENT``).

A test cell (code, ``grade``, not ``solution``) is graded either as the course's check (it calls ``check_*``
functions: the engine plans their calls and diagnoses wrong answers) or as an *ordinary* test cell (run in the
grading process against the student's kernel, :mod:`.resolution`). Written answers, code answers worth points and
``task`` cells are graded by hand. What this finds (read from the source, nothing is run):

* a test cell that does not compile (IPython's syntax included);
* a test cell that uses IPython (a magic, ``get_ipython()``): there is no IPython shell in the grading process;
* a cell that mixes ``check_*`` calls with other statements: only the checks are graded, the rest never runs;
* a test that passes one of its own functions (a ``lambda``, a ``def`` of the test or of a read-only cell) to the
  student's code, or gives a student's name such a function: only plain data and the student's own functions
  cross into the kernel.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .resolution import _python, bound_names

__all__ = ["CellPlan", "Problem", "check_notebook"]


@dataclass(frozen=True)
class CellPlan:
    """A graded cell and how it is graded: ``ordinary``, ``check`` (the course's ``check_*``), or ``by hand
    (written answer)`` / ``by hand (code answer)`` / ``by hand (task)``."""

    grade_id: str
    points: float
    how: str


@dataclass(frozen=True)
class Problem:
    """Something the secure grader cannot grade: the cell, the line (1-based, 0 for the whole cell) and why."""

    grade_id: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"cell {self.grade_id}" + (f", line {self.line}" if self.line else "")
        return f"{where}: {self.reason}"


def _meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _defined_functions(tree: ast.AST) -> set[str]:
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _is_check(name: str) -> bool:
    from ..judge.registry import MODEL_EXERCISES

    return name.startswith("check_") or name in MODEL_EXERCISES


def _check_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and _is_check(n.func.id)
    ]


def _is_function(node: ast.AST, functions: set[str]) -> bool:
    return isinstance(node, ast.Lambda) or (isinstance(node, ast.Name) and node.id in functions)


def check_notebook(path: Path) -> tuple[list[CellPlan], list[Problem]]:
    """The graded cells of the instructor's notebook ``path`` and the problems of its test cells."""
    nb = nbformat.read(path, as_version=4)
    plans: list[CellPlan] = []
    problems: list[Problem] = []
    student: set[str] = set()
    functions: set[str] = set()  # the instructor's functions (read-only cells, test cells)
    for cell in nb.cells:
        meta = _meta(cell)
        points = float(meta.get("points", 0) or 0)
        gid = str(meta.get("grade_id", ""))
        if meta.get("task"):
            plans.append(CellPlan(gid, points, "by hand (task)"))
            continue
        if cell.get("cell_type") != "code":
            if meta.get("grade"):
                plans.append(CellPlan(gid, points, "by hand (written answer)"))
            continue
        if meta.get("solution"):
            student |= bound_names(cell.source)
            if meta.get("grade"):
                plans.append(CellPlan(gid, points, "by hand (code answer)"))
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError as exc:
            if meta.get("grade"):
                plans.append(CellPlan(gid, points, "ordinary"))
                problems.append(Problem(gid, exc.lineno or 0, f"does not compile ({exc.msg})"))
            continue
        if not meta.get("grade"):
            functions |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            continue
        checks = _check_calls(tree)
        plans.append(CellPlan(gid, points, "check" if checks else "ordinary"))
        problems += _problems(gid, tree, checks, student, functions | _defined_functions(tree))
        functions |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return plans, problems


def _problems(
    gid: str, tree: ast.Module, checks: list[ast.Call], student: set[str], functions: set[str]
) -> list[Problem]:
    out: list[Problem] = []
    if checks:
        other = [
            s
            for s in tree.body
            if not isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass))
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))  # a docstring
            and not any(c in checks for c in ast.walk(s))
        ]
        if other:
            out.append(
                Problem(
                    gid,
                    other[0].lineno,
                    "mixes check_* calls with other code: only the check_* calls are graded, the rest never runs "
                    "(put the other statements in a test cell of their own)",
                )
            )
        return out
    magics = ("run_line_magic", "run_cell_magic", "system", "getoutput")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in magics
            and isinstance(node.func.value, ast.Call)
            and getattr(node.func.value.func, "id", "") == "get_ipython"
        ):
            reason = "uses IPython (a magic or a shell command): test cells run in the grading process, which has no "
            out.append(Problem(gid, node.lineno, reason + "IPython shell"))
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
            out.append(Problem(gid, node.lineno, "calls get_ipython(): test cells run in the grading process, "
                               "which has no IPython shell"))  # fmt: skip
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in student:
            args = [*node.args, *(k.value for k in node.keywords)]
            if any(_is_function(a, functions) for a in args):
                out.append(
                    Problem(
                        gid,
                        node.lineno,
                        f"passes a function of the test to the student's {node.func.id}: only plain data and the "
                        "student's own functions cross into the student's kernel",
                    )
                )
        elif isinstance(node, ast.Assign) and _is_function(node.value, functions):
            names = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id in student]
            if names:
                out.append(
                    Problem(
                        gid,
                        node.lineno,
                        f"gives the student's {names[0]} a function of the test: it cannot enter the student's kernel",
                    )
                )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in student:
            out.append(
                Problem(
                    gid,
                    node.lineno,
                    f"defines the student's {node.name} in the test: it cannot enter the student's kernel",
                )
            )
    first: dict[int, Problem] = {}
    for problem in out:  # one problem per line (a magic is also a get_ipython() call)
        first.setdefault(problem.line, problem)
    return sorted(first.values(), key=lambda p: p.line)
