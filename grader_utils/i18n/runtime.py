"""The course's messages in the reader's language: gettext catalogs looked up at run time.

Every sentence a student reads from the grader is written in English in the code, wrapped in
:func:`tr` (``tr("{name} is not implemented yet", name=name)``: named placeholders, so a translation
can put them in another order), or marked with :func:`N_` where it is a constant looked up later
(``HINTS``, ``ARITHMETIC_MESSAGE``...). The English text is the gettext ``msgid``; its translation is
the ``msgstr`` of ``grader_utils/locale/<language>/LC_MESSAGES/grader.po`` (a fuzzy or empty entry
counts as untranslated: the English text is used). :mod:`grader_utils.i18n.catalogs` extracts the
messages and keeps the catalogs up to date.

Which language:

* the grading process sets it for everything it judges from the course's ``nbgrader_config.py``
  (``c.CourseEdition.language``; :func:`using_language` around one notebook's grading);
* in a student's kernel (the checks of the test cells, Validate) it is the language of the notebook
  being run: ``$CNN_COURSE_LANGUAGE`` when set, else the ``cnn_course.language`` metadata of the
  notebook the kernel runs (JupyterLab names it in ``$JPY_SESSION_NAME``; under ``nbgrader validate``
  the kernel runs in the notebook's folder, whose notebooks must agree on one language), else English.

Sandboxed code (:mod:`grader_utils.sandbox`) always writes English; the grading process translates
the sandbox's known sentences when it reports them (:func:`localize`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import re
import string
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGE_ENV",
    "LOCALE_DIR",
    "N_",
    "SANDBOX_SOURCE",
    "catalog",
    "detected_language",
    "language",
    "localize",
    "notebook_language",
    "placeholders",
    "tr",
    "using_language",
]

DEFAULT_LANGUAGE = "en"
#: overrides the language a student's kernel detects (e.g. set by a hub for a whole group)
LANGUAGE_ENV = "CNN_COURSE_LANGUAGE"
#: ``grader_utils/locale/<language>/LC_MESSAGES/grader.po``
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "grader"
#: the notebook metadata that names an edition's language: ``metadata["cnn_course"]["language"]``
METADATA_KEY = "cnn_course"
#: messages made under these folders or files are written by sandboxed code, in English: :func:`localize`
#: translates them (the sandbox, and what the agent in the student's kernel describes: cells/codec.py)
SANDBOX_SOURCE = ("grader_utils/sandbox/", "grader_utils/cells/codec.py")

_LANGUAGE: contextvars.ContextVar[str | None] = contextvars.ContextVar("cnn_course_language", default=None)


def N_(msgid: str) -> str:  # noqa: N802  (gettext's own name for "mark for translation, translate later")
    """Mark a constant English message for the catalogs; :func:`tr` translates it where it is used."""
    return msgid


def catalog_path(lang: str) -> Path:
    """The grader's catalog of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _load(lang: str) -> tuple[dict[str, str], tuple[str, ...]]:
    path = catalog_path(lang)
    if lang == DEFAULT_LANGUAGE or not path.is_file():
        return {}, ()
    import polib

    table, sandbox = {}, []
    for e in polib.pofile(str(path)):
        if e.msgstr and not e.obsolete and "fuzzy" not in e.flags:
            table[e.msgid] = e.msgstr
            if any(f.startswith(SANDBOX_SOURCE) for f, _ in e.occurrences):
                sandbox.append(e.msgid)
    return table, tuple(sorted(sandbox, key=len, reverse=True))


def catalog(lang: str) -> dict[str, str]:
    """{English msgid: translation} of ``lang``'s catalog: translated entries only (not fuzzy, not obsolete)."""
    return _load(lang)[0]


def notebook_language(path: Path) -> str | None:
    """The language a notebook's metadata names (``None``: unreadable or not a notebook)."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(meta, dict):
        return None
    course = meta.get(METADATA_KEY)
    lang = course.get("language") if isinstance(course, dict) else None
    return lang if isinstance(lang, str) and lang else DEFAULT_LANGUAGE


@functools.cache
def _languages_of(candidates: tuple[tuple[str, int], ...]) -> str:
    found = {notebook_language(Path(path)) for path, _ in candidates} - {None}
    return found.pop() if len(found) == 1 else DEFAULT_LANGUAGE  # type: ignore[return-value]


def _stamped(paths: list[Path]) -> tuple[tuple[str, int], ...]:
    out = []
    for path in paths:
        try:
            out.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(out)


def detected_language() -> str:
    """The language of a student's kernel (see the module docstring); English when nothing names one. The
    notebooks are read once per version of them (their path and modification time)."""
    env = os.environ.get(LANGUAGE_ENV, "")
    if env:
        return env
    session, cwd = os.environ.get("JPY_SESSION_NAME", ""), Path.cwd()
    if session.endswith(".ipynb"):
        path = Path(session)
        candidates = [path if path.is_absolute() else cwd / path.name]
    else:
        candidates = sorted(cwd.glob("*.ipynb"))
    return _languages_of(_stamped(candidates))


def language() -> str:
    """The language messages are written in here and now."""
    return _LANGUAGE.get() or detected_language()


@contextlib.contextmanager
def using_language(lang: str | None) -> Iterator[None]:
    """Messages made inside the block are in ``lang`` (``None``: leave the language as it is)."""
    token = _LANGUAGE.set(lang) if lang else None
    try:
        yield
    finally:
        if token is not None:
            _LANGUAGE.reset(token)


def placeholders(text: str) -> list[str]:
    """The named placeholders of a ``str.format`` message, in order (``"{n:.2f} of {m}"`` -> ``["n", "m"]``)."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return ["<unparsable>"]


def tr(msgid: str, /, **values: object) -> str:
    """``msgid`` in the current language, its ``{placeholders}`` filled from ``values``.

    A message without values is returned as it is (its braces are text); a translation that does not
    format (a placeholder it misspells) falls back to the English message: a message never fails."""
    text = catalog(language()).get(msgid, msgid)
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return msgid.format(**values)


#: what a placeholder of a sandbox template matches: names of functions and modules, numbers; others any text
#: (to the end of the line when nothing follows them)
_REST, _TEXT = r"[^\n]+", r"[^\n]+?"
_FIELD = {"name": r"[\w.]+", "module": r"[\w.]+", "event": r"[\w.]+", "seconds": r"[\d.]+"}


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    fields = list(string.Formatter().parse(template))
    parts: list[str] = []
    seen: set[str] = set()
    for i, (literal, name, _, _) in enumerate(fields):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in seen:
            parts.append(f"(?P={name})")
            continue
        seen.add(name)
        last = i == len(fields) - 1
        field = _FIELD.get(name, _REST if last else _TEXT)
        parts.append(f"(?P<{name}>{field})")
    return re.compile("".join(parts))


def localize(text: str) -> str:
    """``text`` with every sentence of the sandbox's messages (the catalog's entries made in
    ``grader_utils/sandbox/``, longest first) in the current language; the rest (e.g. the student's own
    exception messages) as it is."""
    if not text:
        return text
    for template in _load(language())[1]:
        if "{" in template:

            def translated(match: re.Match[str], template: str = template) -> str:
                return tr(template, **match.groupdict())

            text = _pattern(template).sub(translated, text)
        else:
            text = text.replace(template, tr(template))
    return text
