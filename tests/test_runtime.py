"""i18n/runtime.py: messages looked up in the catalog of the language of the run, placeholders filled by name."""

from __future__ import annotations

import json
import subprocess
import sys

import polib
import pytest

from conftest import ROOT
from grader_utils.i18n import runtime
from grader_utils.i18n.runtime import (
    LANGUAGE_ENV,
    catalog,
    detected_language,
    language,
    localize,
    notebook_language,
    placeholders,
    tr,
    using_language,
)


@pytest.fixture
def tiny_catalog(tmp_path, monkeypatch):
    """A catalog of language ``xx`` in a private locale folder: one message with reordered placeholders, a fuzzy
    one, a broken one and a sandbox sentence."""
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="{name} took {seconds:.2f} s", msgstr="{seconds:.1f} s für {name}"))
    po.append(polib.POEntry(msgid="stale {x}", msgstr="alt {x}", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="broken {x}", msgstr="kaputt {y}"))
    po.append(
        polib.POEntry(
            msgid="{name} ran longer than {seconds} s",
            msgstr="{name} lief länger als {seconds} s",
            occurrences=[("grader_utils/sandbox/probe.py", "")],
        )
    )
    po.append(polib.POEntry(msgid="Check failed:", msgstr="Durchgefallen:"))
    folder = tmp_path / "locale" / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po.save(str(folder / "grader.po"))
    monkeypatch.setattr(runtime, "LOCALE_DIR", tmp_path / "locale")
    runtime._load.cache_clear()
    yield
    runtime._load.cache_clear()


def test_english_is_the_message_itself_with_its_values():
    with using_language("en"):
        assert tr("{name} took {seconds:.2f} s", name="f", seconds=1.234) == "f took 1.23 s"
        assert tr("a {brace} stays when no value is given") == "a {brace} stays when no value is given"


def test_a_translation_may_reorder_its_placeholders(tiny_catalog):
    with using_language("xx"):
        assert tr("{name} took {seconds:.2f} s", name="f", seconds=1.26) == "1.3 s für f"
        assert tr("Check failed:") == "Durchgefallen:"
        assert tr("not in the catalog") == "not in the catalog"


def test_fuzzy_and_broken_translations_fall_back_to_english(tiny_catalog):
    assert "stale {x}" not in catalog("xx")
    with using_language("xx"):
        assert tr("stale {x}", x=1) == "stale 1"
        assert tr("broken {x}", x=1) == "broken 1"  # the translation names {y}: the English is used


def test_using_language_nests_and_restores(tiny_catalog, monkeypatch):
    monkeypatch.setenv(LANGUAGE_ENV, "en")
    assert language() == "en"
    with using_language("xx"):
        assert language() == "xx"
        with using_language("en"):
            assert tr("Check failed:") == "Check failed:"
        with using_language(None):  # None leaves the language as it is
            assert language() == "xx"
    assert language() == "en"


def test_localize_translates_the_sandbox_sentences_inside_a_reason(tiny_catalog):
    reason = "f(<array (3, 3) float32>): conv2d_fast ran longer than 20 s; also conv2d ran longer than 5 s"
    with using_language("xx"):
        assert localize(reason) == (
            "f(<array (3, 3) float32>): conv2d_fast lief länger als 20 s; also conv2d lief länger als 5 s"
        )
        assert localize("Check failed: kept") == "Check failed: kept"  # not a sandbox sentence
    with using_language("en"):
        assert localize(reason) == reason


def test_placeholders_are_the_names_in_order():
    assert placeholders("{a} and {b:.2f} of {a}") == ["a", "b", "a"]
    assert placeholders("no braces") == []


def _notebook(path, lang: str | None) -> None:
    meta = {"kernelspec": {"name": "python3"}}
    if lang:
        meta["cnn_course"] = {"language": lang}
    path.write_text(json.dumps({"cells": [], "metadata": meta, "nbformat": 4, "nbformat_minor": 5}))


def test_a_kernel_speaks_the_language_of_its_notebook(tmp_path, monkeypatch):
    """JupyterLab names the kernel's notebook in $JPY_SESSION_NAME; nbgrader validate runs the kernel in the
    notebook's folder, whose notebooks must agree; $CNN_COURSE_LANGUAGE overrides both."""
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert detected_language() == "en"  # nothing names a language
    _notebook(tmp_path / "lesson.ipynb", "ru")
    assert notebook_language(tmp_path / "lesson.ipynb") == "ru"
    assert detected_language() == "ru"  # nbgrader validate: the notebook in the kernel's folder
    _notebook(tmp_path / "english.ipynb", None)
    assert detected_language() == "en"  # two notebooks that disagree: English
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "lesson.ipynb"))
    assert detected_language() == "ru"  # JupyterLab names the notebook
    monkeypatch.setenv("JPY_SESSION_NAME", "some/folder/lesson.ipynb")  # a path relative to the server's root
    assert detected_language() == "ru"
    monkeypatch.setenv(LANGUAGE_ENV, "xx")
    assert detected_language() == "xx"
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert notebook_language(tmp_path / "broken.ipynb") is None


def test_the_committed_russian_catalog_translates_a_real_check_message():
    with using_language("ru"):
        text = tr("{name} is not implemented yet: replace `raise NotImplementedError()` with your code.", name="f")
    assert text.startswith("Функция f ещё не написана") and "raise NotImplementedError()" in text


def test_a_process_in_a_russian_release_folder_speaks_russian():
    """The language of a fresh process (as of a kernel nbgrader validate starts in the notebook's folder)."""
    code = "from grader_utils.i18n import tr; print(tr('Check failed:'))"
    folder = ROOT / "editions" / "ru" / "release" / "01_convolution"
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    ru = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, check=True)
    en = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "release" / "01_convolution", env=env, capture_output=True, text=True
    )
    assert ru.stdout.strip() == "Проверка не пройдена:" and en.stdout.strip() == "Check failed:"
