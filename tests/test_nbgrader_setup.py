"""grading/nbgrader_setup.py: the lines of ``nbgrader_config.py`` that make any nbgrader course grade with this grader
(issue #22, item 8), and hand grading staying nbgrader's there (item 4).

Fast: :func:`nbgrader_setup` sets what it says; the lines of docs/any-course.md and the course's own config give
nbgrader's Autograde converter the sandboxed run.

Slow (one module fixture, shared): a course built in a temporary folder outside this repository, with no check of
this course in it: an original problem set in nbgrader's documented style (a solution cell, ``assert`` test cells,
one with hidden tests, a written answer, a code answer worth points, a task cell) and an ``nbgrader_config.py`` that
is the block of docs/any-course.md. ``nbgrader generate_assignment`` releases it; three submissions are graded with
``nbgrader autograde`` (the command line) and with the API call behind the formgrader's Autograde button; then a
copy of the course, kept inside a second virtualenv that has this package installed from a wheel (not editable), is
graded by that virtualenv's nbgrader, run from another folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, VENV_BIN

DOC = ROOT / "docs" / "any-course.md"
ASSIGNMENT, NOTEBOOK = "ps1", "problems"
#: the problem set's graded cells: grade_id -> (points, kind); kind "test" is an auto-graded test cell
CELLS = {
    "correct_squares": (1, "test"),
    "squares_hidden": (2, "test"),
    "squares_invalid_input": (1, "test"),
    "explain_growth": (2, "written"),
    "plot_squares": (1, "code"),
    "task_sum_of_squares": (2, "task"),
}
TESTS = [g for g, (_p, kind) in CELLS.items() if kind == "test"]
MANUAL = [g for g, (_p, kind) in CELLS.items() if kind != "test"]


def documented_config() -> str:
    """The ``python`` block under the heading "`nbgrader_config.py`" of docs/any-course.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## `nbgrader_config.py`", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block in {DOC}'s nbgrader_config.py section"
    return match.group(1)


# --- fast: the settings --------------------------------------------------------------------------------------


def test_nbgrader_setup_sets_the_autograde_and_feedback_settings():
    from traitlets.config import Config

    import grader_utils
    from grader_utils.grading import nbgrader_setup as setup

    c = Config()
    assert grader_utils.nbgrader_setup(c) is c
    assert c.Autograde.autograde_preprocessors == setup.AUTOGRADE_PREPROCESSORS
    assert c.HTMLExporter.preprocessors == setup.FEEDBACK_PREPROCESSORS
    assert c.GenerateFeedback.exporter_class == setup.FEEDBACK_EXPORTER
    assert c.ExportApp.plugin_class == setup.GRADES_EXPORTER
    from nbgrader.apps.exportapp import ExportApp

    from grader_utils.exporters import GradesCsvExporter

    assert ExportApp(config=c).plugin_class is GradesCsvExporter  # the dotted name resolves
    # nbgrader's own list, with the sandboxed run in Execute's place
    from nbgrader.converters import Autograde

    theirs = [
        f"{p.__module__.split('.')[0]}.{p.__name__}"
        for p in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    ours = [f"{p.split('.')[0]}.{p.rsplit('.', 1)[1]}" for p in setup.AUTOGRADE_PREPROCESSORS]
    assert ours == [("grader_utils.SandboxedExecute" if t == "nbgrader.Execute" else t) for t in theirs]


def _preprocessors(course: Path) -> list:
    """The autograde preprocessors nbgrader's Autograde converter registers with the course's config."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    app = Autograde(coursedir=CourseDirectory(config=config, root=str(course)), config=config)
    app.exporter = app.exporter_class(parent=app, config=app.config)
    app._sanitizing = False
    app._init_preprocessors()
    return app.exporter._preprocessors


def test_the_documented_lines_and_the_courses_config_give_nbgrader_the_sandboxed_run(tmp_path):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader

    from grader_utils.grading.graded_run import SandboxedExecute
    from grader_utils.grading.inert_feedback import InertOutputs
    from grader_utils.grading.nbgrader_plugins import HideHiddenTests

    (tmp_path / "nbgrader_config.py").write_text(documented_config())
    for course in (tmp_path, ROOT):
        pps = _preprocessors(course)
        assert isinstance(pps[0], SandboxedExecute), course
        assert not any(type(p) is Execute for p in pps)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        html = HTMLExporter(config=config)
        assert {HideHiddenTests, InertOutputs} <= {type(p) for p in html._preprocessors}, course
        assert config.GenerateFeedback.exporter_class.endswith("InertFeedbackExporter")


# --- slow: a course of its own, graded -------------------------------------------------------------------------


def _cell(kind: str, source: str, grade_id: str | None = None, points: int = 0, **flags: bool):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id is not None:
        meta = {"grade": False, "solution": False, "locked": False, **flags}
        cell.metadata["nbgrader"] = {**meta, "grade_id": grade_id, "points": points, "schema_version": 3}
    return cell


def problem_set() -> nbformat.NotebookNode:
    """The instructor's notebook: squares of 1..n, in the style of nbgrader's own example problem set."""
    p = {g: points for g, (points, _k) in CELLS.items()}
    cells = [
        _cell("markdown", "# Problem set 1: squares\n\nWrite `squares(n)`: the squares of 1, 2, ..., n in a list."),
        _cell(
            "code",
            'def squares(n):\n    """The squares of 1, 2, ..., n as a list; ValueError when n < 1."""\n'
            '    ### BEGIN SOLUTION\n    if n < 1:\n        raise ValueError("n must be at least 1")\n'
            "    return [i * i for i in range(1, n + 1)]\n    ### END SOLUTION",
            "squares",
            solution=True,
        ),
        _cell(
            "code",
            '"""Check that squares returns the right values"""\nassert squares(1) == [1]\nassert squares(2) == [1, 4]',
            "correct_squares",
            p["correct_squares"],
            grade=True,
            locked=True,
        ),
        _cell(
            "code",
            '"""Check squares on more inputs"""\nassert squares(3) == [1, 4, 9]\n'
            "### BEGIN HIDDEN TESTS\nassert squares(10)[-1] == 100\nassert len(squares(7)) == 7\n"
            "### END HIDDEN TESTS",
            "squares_hidden",
            p["squares_hidden"],
            grade=True,
            locked=True,
        ),
        _cell(
            "code",
            '"""Check that squares refuses n < 1"""\ntry:\n    squares(0)\nexcept ValueError:\n    pass\n'
            'else:\n    raise AssertionError("squares(0) did not raise ValueError")',
            "squares_invalid_input",
            p["squares_invalid_input"],
            grade=True,
            locked=True,
        ),
        _cell("markdown", "Why does the last square grow faster than the length of the list?", "q_growth", locked=True),
        _cell(
            "markdown",
            "The list has n items, its last one is n times n: the length grows like n, the last item like n squared.",
            "explain_growth",
            p["explain_growth"],
            grade=True,
            solution=True,
        ),
        _cell("markdown", "Plot `squares(10)` with matplotlib.", "q_plot", locked=True),
        _cell(
            "code",
            "### BEGIN SOLUTION\nimport matplotlib.pyplot as plt\n\nplt.plot(range(1, 11), squares(10), 'o-')\n"
            "plt.title('squares')\nplt.show()\n### END SOLUTION",
            "plot_squares",
            p["plot_squares"],
            grade=True,
            solution=True,
        ),
        _cell(
            "markdown",
            "**Task.** Write `sum_of_squares(n)` in new cells, without `squares`, and show that it agrees with "
            "`sum(squares(n))` for a few `n`.",
            "task_sum_of_squares",
            p["task_sum_of_squares"],
            task=True,
            locked=True,
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


#: what a student who snoops prints: does each path exist in their kernel? (filled with the course's paths)
SNOOP = """
import os
def squares(n):
    return [0] * n
for path in {paths!r}:
    print("SNOOP", path, os.path.exists(path))
print("CWD", sorted(os.listdir(".")))
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("CNN_COURSE_SECRET_FILE", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _submit(course: Path, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")


def _snooping(course: Path) -> nbformat.NotebookNode:
    """The release notebook with the solution cell replaced by code that looks for the course from inside."""
    nb = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    paths = [str(course / x) for x in ("source", "gradebook.db", ".grading-secret", "nbgrader_config.py")]
    paths.append(str(course / "submitted" / "solution"))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
            cell.source = SNOOP.format(paths=paths)
    return nb


#: the formgrader's Autograde button: its API handler builds NbGraderAPI from the formgrader extension's course
#: directory and config (nbgrader/server_extensions/formgrader: FormgradeExtension, BaseApiHandler.api)
FORMGRADER_AUTOGRADE = """
import json, sys
from nbgrader.apps.api import NbGraderAPI
from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
formgrader = FormgradeExtension()
formgrader.root_dir = "."
formgrader.initialize([])
formgrader.coursedir._load_config(formgrader.load_config())
formgrader.load_config_file()
api = NbGraderAPI(formgrader.coursedir, formgrader.authenticator, parent=formgrader)
result = api.autograde(sys.argv[1], sys.argv[2])
print("RESULT", json.dumps({"success": result["success"], "error": result.get("error")}))
"""


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The other course, generated and graded: ``untouched`` and ``snoop`` by ``nbgrader autograde``, ``solution``
    (the instructor's notebook) through the formgrader's Autograde API."""
    course = tmp_path_factory.mktemp("elsewhere") / "intro-python"
    source = course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(problem_set(), source)
    (course / "nbgrader_config.py").write_text(documented_config())
    assert ROOT not in course.parents
    _run([str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], course)
    _submit(course, "untouched", nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4))
    _submit(course, "snoop", _snooping(course))
    _run([str(VENV_BIN / "nbgrader"), "autograde", ASSIGNMENT], course)
    _submit(course, "solution", nbformat.read(source, as_version=4))
    out = _run([sys.executable, "-c", FORMGRADER_AUTOGRADE, ASSIGNMENT, "solution"], course).stdout
    result = json.loads(out.split("RESULT", 1)[1])
    assert result["success"], result["error"]
    return course


def _grades(course: Path, student: str) -> dict[str, tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
            for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).grades
        }


def _record(course: Path, student: str):
    from grader_utils.grading.records import NotebookRecord

    return NotebookRecord.read(course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.grading.json")


def _autograded_cell(course: Path, student: str, grade_id: str) -> nbformat.NotebookNode:
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _check_graded_by_this_grader(course: Path, answered: list[str], untouched: list[str], snoops: list[str]) -> None:
    """What must hold for every submission graded with the documented config, however it was graded."""
    release = (course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in release and "squares(10)[-1]" not in release and "YOUR ANSWER HERE" in release
    for student in answered + untouched + snoops:
        # every test cell judged by the grader (a record), and nothing but the test cells
        assert [t.grade_id for t in _record(course, student).tests] == TESTS, student
        grades = _grades(course, student)
        assert set(grades) == set(CELLS)
        # the task always waits for its grader; written and code answers as nbgrader's SaveAutoGrades leaves them
        assert grades["task_sum_of_squares"] == (None, None, True), student
        for name in ("explain_growth", "plot_squares"):
            expected = (None, None, True) if student in answered else (0.0, None, False)
            assert grades[name] == expected, (student, name)
    for student in answered:  # the code answer ran in the sandboxed kernel (unlocked: matplotlib) and kept its plot
        outputs = _autograded_cell(course, student, "plot_squares").outputs
        assert any("image/png" in o.get("data", {}) for o in outputs), outputs
    for student in snoops:
        text = "".join(o.get("text", "") for o in _autograded_cell(course, student, "squares").outputs)
        seen = re.findall(r"^SNOOP (.*) (True|False)$", text, re.MULTILINE)
        assert len(seen) == 5 and all(found == "False" for _path, found in seen), text
        assert ".ipynb" not in text.split("CWD", 1)[1], text
    secret = course / ".grading-secret"
    assert secret.exists() and (secret.stat().st_mode & 0o777) == 0o600


@pytest.mark.slow
@pytest.mark.nbgrader
@pytest.mark.sandbox
def test_another_course_grades_with_the_documented_lines(foreign: Path, capsys: pytest.CaptureFixture):
    """``nbgrader autograde`` and the formgrader's Autograde button grade the other course with this grader: every
    test cell judged outside the student's kernel, the answers graded by hand left to the formgrader, the course
    out of the student's sight, its secret in its own directory. ``cnn-course table`` reads it too, every
    student's total marked: their task waits for a grader."""
    from grader_utils.instructor.cli import main
    from grader_utils.instructor.table import PENDING_MARK, PENDING_NOTE

    _check_graded_by_this_grader(foreign, answered=["solution"], untouched=["untouched"], snoops=["snoop"])
    assert main(["table", ASSIGNMENT, "--root", str(foreign)]) == 0
    lines = capsys.readouterr().out.splitlines()
    totals = {line.split("|")[0].strip(): line.split("|")[-1].strip() for line in lines[2:-1]}
    assert set(totals) == {"solution", "untouched", "snoop"} and lines[-1] == PENDING_NOTE
    points = sum(p for p, _k in CELLS.values())
    assert all(total.endswith(f"/{points}{PENDING_MARK}") for total in totals.values()), totals


@pytest.mark.slow
@pytest.mark.nbgrader
@pytest.mark.sandbox
def test_another_courses_assert_cells_give_the_solution_full_marks(foreign: Path):
    """The instructor's solution gets every test cell's points; the untouched release none."""
    from grader_utils.grading.records import Status

    for test in _record(foreign, "solution").tests:
        assert (test.status, test.score) == (Status.OK, CELLS[test.grade_id][0]), test
    solution, untouched = _grades(foreign, "solution"), _grades(foreign, "untouched")
    assert {g: solution[g][0] for g in TESTS} == {g: float(CELLS[g][0]) for g in TESTS}
    assert {g: untouched[g][0] for g in TESTS} == dict.fromkeys(TESTS, 0.0)


# --- slow: this package installed from a wheel, not editable ---------------------------------------------------


def _wheel_venv(tmp: Path) -> Path:
    """A second virtualenv: this one's files hard-linked (no download, seconds), its editable install of this
    package replaced by a wheel built from the checkout and installed into its site-packages."""
    src = tmp / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src / "pyproject.toml")
    shutil.copytree(ROOT / "grader_utils", src / "grader_utils", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels),
         str(src)],
        tmp,
    )  # fmt: skip
    (wheel,) = wheels.glob("grader_utils-*.whl")
    venv = tmp / "venv"
    subprocess.run(["cp", "-al", str(Path(sys.prefix)), str(venv)], check=True)
    packages = next(venv.glob("lib/python3*/site-packages"))
    for path in packages.glob("__editable__*grader_utils*"):
        path.unlink()
    for path in packages.glob("grader_utils-*.dist-info"):
        shutil.rmtree(path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile", str(wheel)], tmp)
    where = _run([str(python), "-c", "import grader_utils; print(grader_utils.__file__)"], tmp).stdout.strip()
    assert Path(where) == packages / "grader_utils" / "__init__.py", where
    return venv


@pytest.mark.slow
@pytest.mark.nbgrader
@pytest.mark.sandbox
def test_a_wheel_install_grades_a_course_it_has_never_seen(foreign: Path, tmp_path: Path):
    """Nothing reads a path relative to where the package lies: installed from a wheel into a virtualenv's
    site-packages, it grades a copy of the course kept inside that virtualenv (a folder the sandbox shows), with
    nbgrader run from another folder. The course is still hidden from the student's kernel: it is nbgrader's
    CourseDirectory that names it."""
    venv = _wheel_venv(tmp_path)
    course = venv / "courses" / "intro-python"
    shutil.copytree(foreign, course, ignore=shutil.ignore_patterns("autograded", ".grading-secret", "submitted"))
    _submit(course, "wheel", nbformat.read(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4))
    _submit(course, "snoop", _snooping(course))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for folder in (tmp_path, venv, venv / "courses"):  # the sandbox's own user reads the virtualenv
        os.chmod(folder, 0o755)
    _run([str(venv / "bin" / "python"), "-m", "nbgrader", "autograde", ASSIGNMENT, f"--CourseDirectory.root={course}"],
         elsewhere)  # fmt: skip
    _check_graded_by_this_grader(course, answered=["wheel"], untouched=[], snoops=["snoop"])
    assert not (elsewhere / ".grading-secret").exists()
