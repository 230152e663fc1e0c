"""Shared fixtures, and the test tiers: markers, what each needs, and ``--fast``.

Every marker is registered here (``--strict-markers`` refuses any other); a test using one of the heavy session
fixtures gets that fixture's markers (:data:`FIXTURE_MARKERS`). A marker that needs something the
machine may lack (bubblewrap, PostgreSQL, root) is skipped here, from the marker, with a message saying what to
install; in CI (``CI`` set) a missing Debian package is not skipped: the tests run and fail.

``pytest --fast`` (``make test-fast``) is the fast tier: it deselects every test carrying a marker of
:data:`HEAVY` (Jupyter kernels, nbgrader's command line, the sandbox, TensorFlow, browsers, PostgreSQL, Unix
users), and fails the first test that imports TensorFlow in this process anyway (mark it ``keras``).

The slow session fixtures run real nbgrader on real Jupyter kernels once per session.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from postgres import find_postgres_bin, postgres_server  # noqa: F401  (session fixture: a real PostgreSQL server)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

#: marker -> what a test carrying it does (``pytest --markers`` shows these)
MARKERS = {
    "slow": "runs real nbgrader/Jupyter kernels on whole notebooks (minutes)",
    "keras": "compares against real TensorFlow/Keras (imports TensorFlow)",
    "nbgrader": "runs nbgrader's command line in a subprocess (seconds each)",
    "sandbox": "runs student code in the bubblewrap sandbox (needs the Debian package bubblewrap)",
    "browser": "drives headless Chromium (Debian package chromium) against a real JupyterLab server",
    "postgres": "uses a real PostgreSQL server the tests start (needs the Debian package postgresql)",
    "spreadsheet": "opens files in LibreOffice Calc, headless (Debian package libreoffice-calc-nogui; seconds)",
    "hub": "creates real Unix users and runs the course's programs as them (root; the hub tests need Node.js/npm)",
    "root(why)": "needs root (user ids, cgroups, /proc); `why` says for what; skipped when not root",
}
#: the markers ``--fast`` deselects: the one definition of the fast tier
HEAVY = ("slow", "keras", "nbgrader", "sandbox", "browser", "postgres", "hub", "spreadsheet")
#: session fixture -> the markers every test using it gets (added at collection, so none is forgotten)
FIXTURE_MARKERS: dict[str, tuple[str, ...]] = {
    "generated_course": ("nbgrader",),
    "graded_course": ("slow", "nbgrader", "sandbox", "keras"),
    "scores": ("slow", "nbgrader", "sandbox", "keras"),
    "postgres_server": ("postgres",),
}
#: where a --fast run first found TensorFlow imported (it is reported once)
_TENSORFLOW_SEEN: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast", action="store_true", help=f"the fast tier: deselect tests marked {', '.join(HEAVY)} (make test-fast)"
    )
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite tests/goldens/ from what the checks print now, instead of comparing with it",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def runnable_by_others(path: str) -> bool:
    """Whether users other than root can run ``path`` (every folder on the way searchable, the file executable):
    the hub's tests run the course's programs as the Unix users they create."""
    p = Path(os.path.realpath(path))
    return bool(p.stat().st_mode & 0o001) and all(d.stat().st_mode & 0o001 for d in p.parents)


@functools.cache
def _bubblewrap_runs() -> bool:
    from grader_utils.sandbox.bwrap import available

    return available()


def _missing_bubblewrap() -> str | None:
    if _bubblewrap_runs() or os.environ.get("CI"):
        return None
    return (
        "bubblewrap does not run here: sudo apt-get install bubblewrap (`make install` does it as root), "
        "and user namespaces must be enabled"
    )


def _missing_postgres() -> str | None:
    if find_postgres_bin() is not None or os.environ.get("CI"):
        return None
    return (
        "PostgreSQL is not installed (initdb/pg_ctl neither on PATH nor in /usr/lib/postgresql/*/bin): "
        "sudo apt-get install postgresql (`make install` does it as root)"
    )


def _missing_soffice() -> str | None:
    if shutil.which("soffice") or os.environ.get("CI"):
        return None
    return (
        "LibreOffice is not installed: sudo apt-get install libreoffice-calc-nogui "
        "(`make install-test` does it as root)"
    )


def _missing_hub() -> str | None:
    if os.geteuid() != 0:
        return "creates Unix users and runs the course's programs as them: run the tests as root"
    if not runnable_by_others(sys.executable):
        return (
            f"this virtualenv's Python ({os.path.realpath(sys.executable)}) is root's only, so the Unix users "
            "the tests create cannot run it: rm -rf .venv && make install (as root it then uses /usr/bin/python3)"
        )
    return None


#: marker -> what is missing to run its tests here (None: nothing); asked once per marker, only when needed.
#: keras and browser have none: TensorFlow is a dependency, and a missing Chromium is a failure
#: (tests/browser_utils.py), since `make install` installs it.
NEEDS: dict[str, Callable[[], str | None]] = {
    "sandbox": _missing_bubblewrap,
    "postgres": _missing_postgres,
    "hub": _missing_hub,
    "spreadsheet": _missing_soffice,
}


def _module_markers(path: Path) -> set[str]:
    """The markers a test module's own ``pytestmark = ...`` names (read from its source, without importing it)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            names |= {
                n.attr
                for n in ast.walk(node.value)
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "mark"
            }
    return names


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``--fast`` does not even import a module whose every test is heavy (some import TensorFlow to build their
    parameters)."""
    if config.getoption("--fast") and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return bool(_module_markers(collection_path) & set(HEAVY)) or None
    return None


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[pytest.CollectReport]:
    """In ``--fast`` runs, a test module whose import loads TensorFlow is a collection error (it needs a
    module-level ``pytestmark`` with ``keras``)."""
    report = yield
    if (
        isinstance(collector, pytest.Module)
        and collector.config.getoption("--fast")
        and not _TENSORFLOW_SEEN
        and "tensorflow" in sys.modules
    ):
        _TENSORFLOW_SEEN.append(collector.nodeid)
        if _module_markers(collector.path) & set(HEAVY):  # named on the command line: its tests are deselected
            return report
        report.outcome = "failed"
        report.longrepr = (
            f"importing {collector.nodeid} loads TensorFlow in a --fast run: give the module "
            "`pytestmark = pytest.mark.keras`, or import TensorFlow inside the tests"
        )
    return report


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & set(FIXTURE_MARKERS):
            for name in FIXTURE_MARKERS[fixture]:
                if not item.get_closest_marker(name):
                    item.add_marker(name)
    if config.getoption("--fast"):
        keep, dropped = [], []
        for item in items:
            (dropped if any(item.get_closest_marker(m) for m in HEAVY) else keep).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    missing = {name: functools.cache(need) for name, need in NEEDS.items()}
    for item in items:
        for name, need in missing.items():
            if item.get_closest_marker(name) and (why := need()):
                item.add_marker(pytest.mark.skip(reason=f"{name}: {why}"))
                break
        root = item.get_closest_marker("root")
        if root and os.geteuid() != 0:
            item.add_marker(pytest.mark.skip(reason=f"needs root: {root.kwargs.get('why', 'run the tests as root')}"))


@pytest.fixture(autouse=True)
def _fast_tier_imports_no_tensorflow(request: pytest.FixtureRequest) -> Iterator[None]:
    """In ``--fast`` runs, the first test after which TensorFlow is imported in this process fails: the tier
    promises no TensorFlow, and the test (or a fixture it uses) should be marked ``keras``."""
    yield
    if not request.config.getoption("--fast") or _TENSORFLOW_SEEN:
        return
    loaded = [m for m in ("tensorflow", "keras") if m in sys.modules]
    if loaded:
        _TENSORFLOW_SEEN.append(request.node.nodeid)
        pytest.fail(
            f"{' and '.join(loaded)} got imported in a --fast run: mark this test (or the fixture that "
            "imports it) `keras`"
        )


def assignments() -> list[str]:
    """Every assignment of the course: the folders of source/ (the one list; nothing else names them all)."""
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and not p.name.startswith("."))


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader`` command line in ``course``."""
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [str(VENV_BIN / "nbgrader"), *args, f"--CourseDirectory.root={course}"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_course(dest: Path) -> Path:
    """A private copy of the course directory (source, demo, config; no state)."""
    for name in ("source", "demo"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    return dest


def course_with_demo_student(dest: Path, assignment: str, student: str = "alice") -> Path:
    """A course copy in ``dest`` with ``assignment`` generated and the demo ``student``'s answers submitted."""
    from grader_utils.instructor.demo import build_submission, read_answers

    course = copy_course(dest)
    nbgrader(course, "generate_assignment", assignment, "--force")
    for nb in (course / "release" / assignment).glob("*.ipynb"):
        build_submission(
            nb,
            read_answers(ROOT / "demo" / assignment / f"{student}.py"),
            course / "submitted" / student / assignment / nb.name,
        )
    return course


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course copy in which ``nbgrader generate_assignment`` has just written release/."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    for a in assignments():
        nbgrader(course, "generate_assignment", a, "--force")
    return course


@pytest.fixture(scope="session")
def graded_course(generated_course: Path) -> Path:
    """The generated course with three kinds of submission per assignment, all autograded:
    ``solution`` (the instructor's notebook submitted as a student), ``untouched`` (the
    release notebook as is) and the demo class."""
    from grader_utils.instructor.demo import build_demo_class

    course = generated_course
    for a in assignments():
        for student, src in (("solution", course / "source" / a), ("untouched", course / "release" / a)):
            dest = course / "submitted" / student / a
            dest.mkdir(parents=True)
            for nb in src.glob("*.ipynb"):
                shutil.copy(nb, dest / nb.name)
    build_demo_class(course)
    from grader_utils.instructor.pipeline import grade_assignments

    # what `make grade` runs: parallel workers, sandboxed kernels, the trusted engine's verdicts; without the
    # preflight, which would grade each assignment's solution once more (the ``solution`` submission above is that
    # check, and tests/test_environment_failures.py tests the preflight itself)
    outcomes = grade_assignments(course, assignments(), jobs=2, preflight=False)
    failed = [o for o in outcomes if o.status != "graded"]
    assert not failed, failed
    for a in assignments():
        nbgrader(course, "generate_feedback", a, "--force")
    return course


@pytest.fixture(scope="session")
def scores(graded_course: Path) -> dict[str, dict]:
    """{assignment: score_table(...)} read from the graded course's gradebook."""
    from grader_utils.instructor.table import score_table

    db = f"sqlite:///{graded_course / 'gradebook.db'}"
    return {a: score_table(db, a) for a in assignments()}


@pytest.fixture(scope="session")
def small_gradebook_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/small_gradebook.py's gradebook, built once per session (nbgrader's migrations take seconds):
    a test copies the file with :func:`copy_small_gradebook` and changes only its copy."""
    from small_gradebook import build_gradebook

    path = tmp_path_factory.mktemp("small_gradebook") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:  # nbgrader runs `alembic` by name when it creates a gradebook
        mp.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        build_gradebook(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def hand_gradebook_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/small_gradebook.py's gradebook with cells graded by hand (:func:`small_gradebook.build_hand_gradebook`),
    built once per session; copy it with :func:`copy_small_gradebook`."""
    from small_gradebook import build_hand_gradebook

    path = tmp_path_factory.mktemp("hand_gradebook") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        build_hand_gradebook(f"sqlite:///{path}")
    return path


def copy_small_gradebook(template: Path, folder: Path) -> str:
    """A private copy of the small gradebook as ``folder/gradebook.db``; returns its URL."""
    shutil.copy(template, folder / "gradebook.db")
    return f"sqlite:///{folder / 'gradebook.db'}"


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
