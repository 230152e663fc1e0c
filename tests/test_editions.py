"""instructor/editions.py: the Russian edition is built from source/ and the catalogs, differs from the English
course only in its words, and is graded identically, in its own language."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from conftest import ROOT, assignments, nbgrader
from grader_utils.grading.layout import CourseLayout
from grader_utils.i18n.catalogs import catalog_problems
from grader_utils.i18n.runtime import catalog_path
from grader_utils.instructor.editions import (
    build_edition,
    build_notebook,
    edition_config,
    editions,
    refresh_catalogs,
)

LANGUAGES = editions(ROOT)
EDITION = "ru"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
TRANSLATE = "run `make translations`, translate what it lists (docs/translating.md), then `make release`"


def _notebooks() -> list[tuple[str, str]]:
    return [(a, p.stem) for a in assignments() for p in sorted((ROOT / "source" / a).glob("*.ipynb"))]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_course_has_a_russian_edition():
    assert EDITION in LANGUAGES
    assert CourseLayout(ROOT / "editions" / EDITION).language == EDITION
    assert CourseLayout(ROOT).language == "en"  # the English course names no language: English, explicitly


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_is_translated_and_current(language):
    """A new English text (or one whose English changed: fuzzy) without its translation fails here, with the
    command that lists them; so does a translation that changed a placeholder, code span, number or formula."""
    reports = [r for r in refresh_catalogs(ROOT, write=False) if language in str(r.path)]
    assert len(reports) == 1 + len(_notebooks())
    stale = [r.line(ROOT) for r in reports if r.new or r.fuzzy or r.changed]
    assert not stale, "catalogs behind the English:\n" + "\n".join(stale) + f"\n{TRANSLATE}"
    problems = catalog_problems(catalog_path(language), language=language)
    for assignment, notebook in _notebooks():
        path = CourseLayout(ROOT).lesson_catalog(language, assignment, notebook)
        problems += catalog_problems(path, lesson=True, language=language)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_editions_sources_and_config_are_what_release_builds(language):
    layout, edition = CourseLayout(ROOT), CourseLayout(ROOT).edition(language)
    assert edition.config_file.read_text(encoding="utf-8") == edition_config(ROOT, language), "run `make release`"
    committed = sorted(p.relative_to(edition.source_dir) for p in edition.source_dir.glob("*/*.ipynb"))
    assert committed == sorted(Path(a) / f"{n}.ipynb" for a, n in _notebooks()), "run `make release`"
    for assignment, notebook in _notebooks():
        built, untranslated = build_notebook(
            layout.source_notebook(assignment, notebook),
            layout.lesson_catalog(language, assignment, notebook),
            language,
            json.loads(edition.source_notebook(assignment, notebook).read_text())["metadata"]["cnn_course"][
                "generated_from"
            ],
        )
        assert not untranslated, f"{assignment}/{notebook}: English left in the edition; {TRANSLATE}"
        on_disk = json.loads(edition.source_notebook(assignment, notebook).read_text(encoding="utf-8"))
        assert on_disk == built, (
            f"editions/{language}/source/{assignment}/{notebook}.ipynb is stale: run `make release`"
        )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["source", "release"])
def test_an_edition_differs_from_the_english_course_only_in_its_markdown(language, kind):
    """Same cells in the same order with the same ids; every code cell (solutions, tests, demos) and every cell's
    metadata (grade ids, points, checksums) identical; every Markdown cell in the edition's language."""
    for assignment, notebook in _notebooks():
        english = _cells(ROOT / kind / assignment / f"{notebook}.ipynb")
        path = ROOT / "editions" / language / kind / assignment / f"{notebook}.ipynb"
        assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make release`"
        translated = _cells(path)
        assert [(c["id"], c["cell_type"]) for c in translated] == [(c["id"], c["cell_type"]) for c in english], (
            f"{path.relative_to(ROOT)} has other cells than the English notebook: run `make release`"
        )
        for en, tr in zip(english, translated):
            if en["cell_type"] == "code":
                assert tr == en, f"{path.relative_to(ROOT)}: code cell {en['id']} differs from the English one"
            else:
                assert tr["metadata"] == en["metadata"], f"{path.relative_to(ROOT)}: metadata of {en['id']}"
                if re.search(r"[A-Za-z]{3}", _text(en)):
                    assert CYRILLIC.search(_text(tr)), f"{path.relative_to(ROOT)}: cell {en['id']} is not translated"
        checksums = [c["metadata"].get("nbgrader", {}).get("checksum") for c in translated]
        assert kind == "source" or any(checksums)


def _glossary() -> list[tuple[str, list[str]]]:
    """The instructor guide's glossary: (English term, the word stems the catalogs must use for it)."""
    text = (ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
    section = text.split("### Glossary", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            stems = [s.strip().strip("`") for s in cells[2].split(",") if s.strip()]
            rows += [(term.strip(), stems) for term in cells[0].split(",")]
    return rows


#: code spans, inline math and {placeholders}: not prose, never checked against the glossary
_NOT_PROSE = re.compile(r"`[^`]+`|\$[^$]+\$|\{[^{}]*\}")


def _english(term: str) -> re.Pattern[str]:
    """The term as a word of prose: not part of a name (``kernel_size``, ``strides=``, ``bias[o]``) nor an operand
    of a formula (``(size - kernel) / stride``)."""
    return re.compile(
        r"(?<![\w=_(\[/'\".-])(?<![-+*/] )" + re.escape(term) + r"(?:s|es|ed)?(?![\w=_(\['\"/)-])(?! [-+*/] )", re.I
    )


@pytest.mark.parametrize("language", [EDITION])
def test_the_catalogs_use_the_glossarys_terms(language):
    """Wherever an English term of the instructor guide's glossary stands in a text, its translation uses the
    glossary's Russian term (any of its listed stems; ё and е alike)."""
    glossary = _glossary()
    assert len(glossary) >= 20, "the glossary in docs/instructor-guide.md was not found"
    paths = [catalog_path(language)] + [CourseLayout(ROOT).lesson_catalog(language, a, n) for a, n in _notebooks()]
    entries = [e for p in paths for e in polib.pofile(str(p)) if e.msgstr and not e.obsolete]
    misses, used = [], dict.fromkeys((t for t, _ in glossary), 0)
    for term, stems in glossary:
        pattern = _english(term)
        for e in entries:
            if pattern.search(_NOT_PROSE.sub(" ", e.msgid)):
                used[term] += 1
                if not any(s.replace("ё", "е") in e.msgstr.lower().replace("ё", "е") for s in stems):
                    misses.append(f"{term!r} -> {stems}: {e.msgid[:80]!r}")
    assert not misses, "translations that do not use the glossary's term:\n" + "\n".join(misses)
    assert all(used.values()), f"glossary terms that no English text uses: {[t for t, n in used.items() if not n]}"


def test_a_changed_english_sentence_is_marked_stale_by_one_command(tmp_path):
    """What a merge that edits the English does: `cnn-course translations` (refresh_catalogs) marks the changed
    block fuzzy, keeps the old translation for the translator, and the build keeps the new English there."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source" / "01_convolution", course / "source" / "01_convolution")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(
        ROOT / "editions" / EDITION / "locale" / "01_convolution",
        course / "editions" / EDITION / "locale" / "01_convolution",
    )
    notebook = course / "source" / "01_convolution" / "convolution.ipynb"
    old, new = "That is fine for a short vector,", "That works for a short vector,"
    assert old in notebook.read_text()
    notebook.write_text(notebook.read_text().replace(old, new))
    reports = refresh_catalogs(course, grader=False)
    assert len(reports) == 1 and reports[0].changed and not reports[0].new
    (changed,) = reports[0].fuzzy
    assert new in changed
    entry = polib.pofile(str(reports[0].path)).find(changed)
    assert old in entry.previous_msgid and entry.msgstr.startswith("Полносвязный (dense) слой")
    report = build_edition(course, EDITION)
    assert report.untranslated == {"01_convolution/convolution.ipynb": [changed]}
    built = CourseLayout(course).edition(EDITION).source_notebook("01_convolution", "convolution").read_text()
    assert new in built and "Свёртка" in built


def test_the_cli_reports_what_is_left_to_translate(capsys):
    from grader_utils.instructor.cli import main

    assert main(["translations", "--check", "--root", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "every catalog is translated" in out and "grader.po: " in out and "convolution.po: " in out


@pytest.mark.nbgrader
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_editions_release_is_up_to_date(tmp_path, language, monkeypatch):
    """nbgrader's generate_assignment in a copy of the edition gives the committed release/ (as test_release does
    for the English one; through nbgrader's API in this process: one start-up for every assignment)."""
    from grader_utils.instructor.submission import _api

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")  # nbgrader's alembic
    edition = ROOT / "editions" / language
    course = tmp_path / language
    shutil.copytree(edition / "source", course / "source")
    shutil.copy(edition / "nbgrader_config.py", course / "nbgrader_config.py")
    api = _api(course, CourseLayout(course).db_url)
    for a in assignments():
        result = api.generate_assignment(a, force=True)
        assert result["success"], result.get("error") or result.get("log")
        for path in sorted((edition / "release" / a).glob("*.ipynb")):
            fresh = (course / "release" / a / path.name).read_text()
            stale = f"editions/{language}/release/{a}/{path.name} is stale: run `make release`"
            assert fresh == path.read_text(), stale


@pytest.mark.keras
def test_a_check_in_a_russian_notebooks_folder_speaks_russian():
    """Validate runs the notebook's kernel in the notebook's folder: the checks find the notebook's language there
    and fail in it (in English elsewhere: the goldens of test_feedback_goldens, and test_runtime's folder test)."""
    code = (
        "from grader_utils.checks import check_dense_param_count\n"
        "try:\n    check_dense_param_count(lambda shape, units: 7, 'basic')\n"
        "except AssertionError as e:\n    print(e)\n"
    )
    folder = ROOT / "editions" / "ru" / "release" / "01_convolution"
    run = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300)
    assert "неверных случаев набора basic" in run.stdout and "Число параметров: 7, а у Keras" in run.stdout, run


# ----------------------------------------------------------------------------- graded identically


@pytest.fixture(scope="session")
def graded_ru_course(graded_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Russian edition's 01_convolution graded for the demo class, with the English run's course secret (so
    the hidden inputs are the same): one assignment, to keep CI's time."""
    from grader_utils.instructor.demo import build_demo_class
    from grader_utils.instructor.pipeline import grade_assignments

    edition = ROOT / "editions" / EDITION
    course = tmp_path_factory.mktemp("ru_course")
    for name in ("source", "release"):
        shutil.copytree(edition / name / "01_convolution", course / name / "01_convolution")
    shutil.copy(edition / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "demo" / "01_convolution", course / "demo" / "01_convolution")
    shutil.copy(ROOT / "demo" / "students.csv", course / "demo" / "students.csv")
    shutil.copy(graded_course / ".grading-secret", course / ".grading-secret")
    nbgrader(course, "generate_assignment", "01_convolution", "--force")
    build_demo_class(course)
    outcomes = grade_assignments(course, ["01_convolution"], jobs=2, preflight=False)
    assert all(o.status == "graded" for o in outcomes), outcomes
    nbgrader(course, "generate_feedback", "01_convolution", "--force")
    return course


def test_the_same_submissions_score_the_same_in_both_editions(graded_ru_course, scores):
    from grader_utils.instructor.table import score_table

    russian = score_table(f"sqlite:///{graded_ru_course / 'gradebook.db'}", "01_convolution")
    english = scores["01_convolution"]  # the English run grades two more submissions (solution, untouched)
    assert russian["tests"] == english["tests"] and russian["max"] == english["max"]
    demo = sorted(p.stem for p in (ROOT / "demo" / "01_convolution").glob("*.py"))
    assert sorted(russian["students"]) == demo
    for student in demo:
        assert russian["students"][student] == english["students"][student], student
    assert {sum(russian["students"][s].values()) for s in demo} > {0.0}  # some score, some do not


def _english_fragments() -> list[str]:
    """The longest literal piece of every English message of the grader (placeholders cut out)."""
    pieces = []
    for e in polib.pofile(str(catalog_path(EDITION))):
        longest = max(re.split(r"\{[^{}]*\}", e.msgid), key=len).strip()
        if len(longest) >= 20:
            pieces.append(longest)
    return pieces


def test_the_russian_editions_feedback_is_in_russian(graded_ru_course):
    from grader_utils.grading.records import NotebookRecord

    layout = CourseLayout(graded_ru_course)
    fragments = _english_fragments()
    reasons = [
        t.reason for path in layout.records("01_convolution") for t in NotebookRecord.read(path).tests if t.reason
    ]
    assert len(reasons) >= 8  # bob, dave, erin and grace fail tests
    for reason in reasons:
        assert CYRILLIC.search(reason), reason
        english = [f for f in fragments if f in reason]
        assert not english, f"English left in a Russian reason: {english} in {reason!r}"
    page = (layout.feedback("bob", "01_convolution") / "convolution.html").read_text(encoding="utf-8")
    assert '<html lang="ru"' in page and "Баллы: " in page and ">Тестовая ячейка</a>" in page
    assert "Вероятная причина" in page and "ПРОЙДЕНО dense_param_count__basic" in page
    assert "Свёртка" in page and "Likely cause" not in page and "Score: " not in page
