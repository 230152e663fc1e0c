"""i18n/catalogs.py: what is translatable, how a catalog follows the English, and what a translation must keep."""

from __future__ import annotations

import nbformat
import polib
import pytest

from conftest import ROOT
from grader_utils.i18n.catalogs import (
    Entry,
    ExtractionError,
    catalog_problems,
    code_messages,
    lesson_messages,
    markdown_blocks,
    refresh,
    status_words,
)


def test_markdown_blocks_give_every_cell_back_exactly():
    cells = 0
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                pieces = markdown_blocks(cell.source)
                assert "\n".join(p for p, _ in pieces) == cell.source, (path.name, cell.id)
                cells += 1
    assert cells > 40


def test_code_and_display_math_are_not_text():
    text = (
        "Intro line\nsecond line\n\n```python\nx = 1\n\ny = 2\n```\n\n$$ a = b\n\n+ c $$\n\n$$\nx\n\n$$\n\n"
        "* a list\n* of two\n\n\n---"
    )
    pieces = [(p, t) for p, t in markdown_blocks(text) if p.strip()]
    assert pieces == [
        ("Intro line\nsecond line", True),
        ("```python\nx = 1\n\ny = 2\n```", False),  # a blank line inside a fence does not split it
        ("$$ a = b\n\n+ c $$", False),
        ("$$\nx\n\n$$", False),
        ("* a list\n* of two", True),
        ("---", False),
    ]


def test_every_message_of_the_package_is_found_with_its_files():
    messages = {e.msgid: e for e in code_messages()}
    hint = "Pooling works on each channel separately, so the number of channels stays the same."
    assert messages[hint].occurrences == [("grader_utils/judge/hints.py", "")]  # an N_ constant
    passed = messages["PASSED {name}: all {total} {suite} cases match Keras."]
    assert passed.python_format and passed.occurrences == [("grader_utils/judge/suite.py", "")]
    assert any(o[0].startswith("grader_utils/sandbox/") for e in messages.values() for o in e.occurrences)
    assert not any(o[0].startswith("grader_utils/i18n/") for e in messages.values() for o in e.occurrences)


def test_a_message_must_be_a_literal(tmp_path):
    package = tmp_path / "grader_utils"
    package.mkdir()
    (package / "ok.py").write_text("from x import tr, N_\nA = N_('a {x}')\nprint(tr(A, x=1), tr('b'))\n")
    assert [e.msgid for e in code_messages(package)] == ["a {x}", "b"]
    (package / "bad.py").write_text("from x import tr\nname = 1\nprint(tr(f'{name} is wrong'))\n")
    with pytest.raises(ExtractionError, match="bad.py:3"):
        code_messages(package)


def test_refresh_keeps_translations_marks_changed_english_fuzzy_and_keeps_vanished_ones(tmp_path):
    path = tmp_path / "x.po"
    first = [Entry("The kernel slides over the image.", [("a.ipynb", "c1")]), Entry("Two {n}", python_format=True)]
    report = refresh(path, first, "ru", "test")
    assert report.changed and report.new == [e.msgid for e in first]
    po = polib.pofile(str(path))
    po.find("The kernel slides over the image.").msgstr = "Ядро скользит по изображению."
    po.find("Two {n}").msgstr = "Два {n}"
    po.save()
    assert not refresh(path, first, "ru", "test").changed  # nothing new: the file stays as it is
    changed = [Entry("The kernel slides over the whole image.", [("a.ipynb", "c1")]), Entry("Brand new")]
    report = refresh(path, changed, "ru", "test")
    assert report.fuzzy == ["The kernel slides over the whole image."] and report.new == ["Brand new"]
    assert report.obsolete == 2
    entry = polib.pofile(str(path)).find("The kernel slides over the whole image.")
    assert "fuzzy" in entry.flags and entry.msgstr == "Ядро скользит по изображению."
    assert entry.previous_msgid == "The kernel slides over the image."  # the translator sees what changed
    problems = catalog_problems(path)
    assert any("fuzzy" in p for p in problems) and any("untranslated: 'Brand new'" in p for p in problems)
    back = refresh(path, first, "ru", "test")  # the old English again: its translation comes back from #~
    assert not back.new and not back.fuzzy


def test_catalog_problems_find_what_a_translation_broke(tmp_path):
    po = polib.POFile()
    po.append(
        polib.POEntry(
            msgid="{name}: {wrong} of {total}", msgstr="{name}: {wrong} из {all}", flags=["python-brace-format"]
        )
    )
    po.append(polib.POEntry(msgid="Use `Conv2D` with **896** weights, $k^2$.", msgstr="Используйте Conv2D, **869**."))
    po.append(polib.POEntry(msgid="prints `PASSED ...`", msgstr="печатает `ПРОЙДЕНО ...`"))
    po.save(str(tmp_path / "c.po"))
    problems = catalog_problems(tmp_path / "c.po", lesson=True, language="ru")
    assert any("placeholders ['all', 'name', 'wrong'] instead of ['name', 'total', 'wrong']" in p for p in problems)
    assert any("code spans differ (missing ['`Conv2D`']" in p for p in problems)
    assert any("numbers in bold differ" in p for p in problems) and any("formulas differ" in p for p in problems)
    assert not any("PASSED" in p for p in problems)  # the checks' status word in the edition's language
    assert status_words("ru")["ПРОЙДЕНО"] == "PASSED"


def test_lesson_messages_name_the_notebook_and_cell():
    notebook = ROOT / "source" / "01_convolution" / "convolution.ipynb"
    entries = lesson_messages(notebook, "01_convolution/convolution.ipynb")
    assert entries[0].msgid == "# 1. Convolution"
    assert entries[0].occurrences == [("01_convolution/convolution.ipynb", "cell-00")]
    assert not any(e.msgid.startswith(("```", "$$")) for e in entries)
