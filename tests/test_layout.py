"""grading/layout.py: one answer to "where is it, and which gradebook" for every command."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import ROOT, assignments
from grader_utils.grading.layout import RECORD_SUFFIX, CourseLayout, course_db_url


def _course(tmp_path, config: str = "") -> CourseLayout:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n" + config)
    for name in ("02_b", "01_a"):
        (tmp_path / "source" / name).mkdir(parents=True)
    (tmp_path / "source" / "notes.txt").write_text("not an assignment")
    for student in ("zoe", "ann"):
        (tmp_path / "submitted" / student / "01_a").mkdir(parents=True)
    return CourseLayout(tmp_path)


def test_the_gradebook_is_the_explicit_url_else_the_config_else_gradebook_db(tmp_path):
    plain = _course(tmp_path)
    assert plain.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}?timeout=60"
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'elsewhere.db'}'\n"
    )
    assert CourseLayout(tmp_path).db_url == f"sqlite:///{tmp_path / 'elsewhere.db'}?timeout=60"
    assert CourseLayout(tmp_path, "postgresql://u@h/db").db_url == "postgresql+psycopg2://u@h/db"
    assert course_db_url(tmp_path, "sqlite:///x.db?timeout=5") == "sqlite:///x.db?timeout=5"


def test_assignments_and_students_come_from_the_folders(tmp_path):
    layout = _course(tmp_path)
    assert layout.assignments() == ["01_a", "02_b"]
    assert layout.students("01_a") == ["ann", "zoe"] and layout.students("01_a", ["zoe"]) == ["zoe"]
    assert layout.students("02_b") == []
    assert CourseLayout(ROOT).assignments() == assignments()
    assert layout.submitted("ann", "01_a").is_dir() and layout.source("01_a").is_dir()


@pytest.mark.nbgrader
def test_every_command_uses_the_courses_gradebook(tmp_path):
    """``cnn-course roster`` and ``table`` (what ``make demo`` prints) read the gradebook the course's config
    names, not a gradebook.db of their own."""
    _course(tmp_path, f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'class.db'}'\n")
    roster = subprocess.run(
        [sys.executable, "-m", "grader_utils", "roster", str(ROOT / "demo" / "students.csv"), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert roster.returncode == 0, roster.stderr
    assert (tmp_path / "class.db").exists() and not (tmp_path / "gradebook.db").exists()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'class.db'}") as gb:
        ids = sorted(s.id for s in gb.students)
    assert ids and ids == sorted(
        line.split(",")[0] for line in (ROOT / "demo" / "students.csv").read_text().splitlines()[1:] if line
    )


def test_every_folder_and_file_of_the_course_has_one_name(tmp_path):
    layout = _course(tmp_path)
    root = tmp_path.resolve()
    assert (
        layout.source_dir,
        layout.release_dir,
        layout.submitted_dir,
        layout.autograded_dir,
        layout.feedback_dir,
        layout.demo_dir,
    ) == tuple(root / name for name in ("source", "release", "submitted", "autograded", "feedback", "demo"))
    assert layout.gradebook_file == root / "gradebook.db" and layout.demo_roster == root / "demo" / "students.csv"
    assert layout.source_notebook("01_a", "nb") == root / "source" / "01_a" / "nb.ipynb"
    assert layout.release_notebook("01_a", "nb") == root / "release" / "01_a" / "nb.ipynb"
    assert layout.autograded("ann", "01_a") == root / "autograded" / "ann" / "01_a"
    assert layout.feedback("ann", "01_a") == root / "feedback" / "ann" / "01_a"
    assert layout.record("ann", "01_a", "nb") == root / "autograded" / "ann" / "01_a" / f"nb{RECORD_SUFFIX}"
    assert layout.report("01_a") == root / "reports" / "01_a.html"
    assert layout.export_file("canvas") == root / "grades-canvas.csv"


def test_the_notebooks_and_records_on_disk(tmp_path):
    layout = _course(tmp_path)
    for folder in (layout.source("01_a"), layout.release("01_a")):
        for name in ("b.ipynb", "a.ipynb", "notes.txt"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("{}")
    assert [p.name for p in layout.source_notebooks("01_a")] == ["a.ipynb", "b.ipynb"]
    assert [p.name for p in layout.release_notebooks("01_a")] == ["a.ipynb", "b.ipynb"]
    assert layout.release_notebooks("02_b") == []
    for student, assignment in (("zoe", "01_a"), ("ann", "01_a"), ("ann", "02_b")):
        layout.record(student, assignment, "a").parent.mkdir(parents=True, exist_ok=True)
        layout.record(student, assignment, "a").write_text("{}")
    (layout.autograded("ann", "01_a") / "a.ipynb").write_text("{}")
    assert layout.records("01_a") == [layout.record("ann", "01_a", "a"), layout.record("zoe", "01_a", "a")]
    assert CourseLayout.of_autograded(tmp_path / "autograded" / "ann" / "01_a").root == tmp_path.resolve()


#: the folder and file names only layout.py joins onto a path
_FOLDERS = {
    "source",
    "release",
    "submitted",
    "autograded",
    "feedback",
    "demo",
    "reports",
    "gradebook.db",
    "students.csv",
}


def _path_building(node: ast.AST) -> str | None:
    """The folder name ``node`` joins onto a path (``x / "submitted"``, ``os.path.join(x, "submitted")``,
    ``x.joinpath("submitted")``, ``x.glob("autograded/*/...")``), else None."""

    def name_of(arg: ast.AST) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            text = arg.value
        elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
            text = str(arg.values[0].value)
        else:
            return None
        head = text.strip("/").split("/")[0]
        return head if head in _FOLDERS else None

    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return name_of(node.right) or name_of(node.left)
    if isinstance(node, ast.Call):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called in ("join", "joinpath", "glob", "rglob", "Path", "PurePath"):
            return next((n for n in map(name_of, node.args) if n), None)
    return None


def _hand_built_paths(tree: ast.AST) -> list[tuple[int, str]]:
    return [(node.lineno, name) for node in ast.walk(tree) if (name := _path_building(node))]


def test_the_scan_finds_a_path_built_by_hand():
    """The scan below can fail: each way of building a course path by hand is found."""
    for code in (
        'root / "submitted" / s',
        'os.path.join(root, "autograded", s)',
        'root.joinpath("source")',
        'sorted(Path(root).glob(f"autograded/*/{a}/*.json"))',
        'Path("release", a)',
    ):
        assert _hand_built_paths(ast.parse(code)), code
    assert not _hand_built_paths(ast.parse('layout.submitted(s, a) / "x.ipynb"; cell.get("source")'))


def test_only_layout_builds_the_course_paths():
    """Every module finds the course's folders through CourseLayout; none joins their names onto a path."""
    found = []
    for path in sorted((ROOT / "grader_utils").rglob("*.py")):
        if path == ROOT / "grader_utils" / "grading" / "layout.py":
            continue
        found += [
            f"{path.relative_to(ROOT)}:{line}: {name!r}"
            for line, name in _hand_built_paths(ast.parse(path.read_text(), str(path)))
        ]
    assert not found, "build these paths with grading/layout.py's CourseLayout:\n" + "\n".join(found)


def test_the_language_is_the_editions_else_english(tmp_path):
    assert _course(tmp_path).language == "en"
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseEdition.language = "ru"\n')
    assert CourseLayout(tmp_path).language == "ru"
    assert CourseLayout(tmp_path).edition("ru").root == (tmp_path / "editions" / "ru").resolve()
    (tmp_path / "nbgrader_config.py").write_text("raise ValueError('a broken config')\n")
    assert CourseLayout(tmp_path).language == "en"
