"""The translation catalogs: what is translatable, keeping the ``.po`` files up to date, and checking them.

Two kinds of catalog, both gettext ``.po`` files whose ``msgid`` is the English text itself (so a changed
English sentence no longer finds its translation: :func:`refresh` then marks the closest old translation
``fuzzy``, gettext's own "stale", with the old English as ``#| msgid``):

* the grader's messages, ``grader_utils/locale/<language>/LC_MESSAGES/grader.po``: every string literal
  the package passes to ``tr(...)`` or ``N_(...)`` (:func:`code_messages`, read with :mod:`ast`; their
  ``{placeholders}`` carry the flag ``python-brace-format``);
* the lessons, ``editions/<language>/locale/<assignment>/<notebook>.po``: the Markdown cells of
  ``source/<assignment>/<notebook>.ipynb`` cut into blocks at blank lines (:func:`markdown_blocks`; fenced
  code and display-math blocks are not text and stay as they are), each block one entry, its occurrence
  the notebook and the cell's id.

:func:`refresh` rewrites a catalog from the current English (all of a course's catalogs:
:func:`grader_utils.instructor.editions.refresh_catalogs`, ``cnn-course translations``);
:func:`catalog_problems` lists what a translator still has to do (untranslated, fuzzy) and what a translation
broke (placeholders, code spans, numbers in bold, formulas).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import placeholders

__all__ = [
    "CatalogReport",
    "Entry",
    "PACKAGE_DIR",
    "catalog_problems",
    "code_messages",
    "lesson_messages",
    "markdown_blocks",
    "refresh",
    "status_words",
]

#: grader_utils/
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: how similar an old English text must be to a new one for its translation to be offered as fuzzy
FUZZY_RATIO = 0.6
#: functions whose first argument is a message (``tr`` translates now, ``N_`` marks a constant)
MARKERS = ("tr", "N_")


@dataclass
class Entry:
    """One translatable text and where it occurs (``(file, line or cell id)`` pairs)."""

    msgid: str
    occurrences: list[tuple[str, str]] = field(default_factory=list)
    python_format: bool = False


class ExtractionError(ValueError):
    """A message that cannot be extracted (e.g. ``tr(f"...")``: the English text is not a literal)."""


# ----------------------------------------------------------------------------- the grader's messages


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def code_messages(package: Path = PACKAGE_DIR) -> list[Entry]:
    """Every message of the package: the literal first argument of each ``tr(...)`` / ``N_(...)`` call, in
    file and line order (occurrences name the file only). ``tr`` of a name (a constant marked ``N_``
    elsewhere) is allowed; ``tr`` of anything else that is not a literal (an f-string, a concatenation, ``%``)
    raises :class:`ExtractionError`."""
    found: dict[str, Entry] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        if rel.startswith("grader_utils/i18n/"):
            continue  # the machinery itself: its docstrings show tr(...) as examples
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        for node in calls:
            if not (isinstance(node, ast.Call) and _called_name(node) in MARKERS and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                entry = found.setdefault(arg.value, Entry(arg.value))
                if (rel, "") not in entry.occurrences:  # the file, not the line: a catalog that churns on
                    entry.occurrences.append((rel, ""))  # every edit of the code would conflict on every merge
                entry.python_format = bool(placeholders(arg.value))
            elif not isinstance(arg, (ast.Name, ast.Attribute, ast.Subscript)):
                raise ExtractionError(
                    f"{rel}:{node.lineno}: {_called_name(node)}() needs the English text as a literal "
                    "(named placeholders and keyword values, not an f-string)"
                )
    return list(found.values())


# ----------------------------------------------------------------------------- the lessons' Markdown

_FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_blocks(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into blocks and the blank lines between them: ``(piece, translatable)`` pairs whose
    pieces joined with ``"\\n"`` give ``text`` back exactly. A block is translatable unless it is a fenced
    code block, a display-math block (``$$ ... $$``) or holds no words."""
    pieces: list[tuple[str, bool]] = []
    lines: list[str] = []
    blank_run = False
    fence = math = False

    def flush() -> None:
        if lines:
            body = "\n".join(lines)
            pieces.append((body, False if blank_run else _is_text(body)))
            lines.clear()

    for line in text.split("\n"):
        blank = not line.strip() and not fence and not math
        if blank != blank_run:
            flush()
            blank_run = blank
        lines.append(line)
        if blank:
            continue
        stripped = line.strip()
        if _FENCE.match(line):
            fence = not fence
        elif not fence and not math and stripped.startswith("$$"):
            math = not (len(stripped) > 2 and stripped.endswith("$$"))
        elif math and stripped.endswith("$$"):
            math = False
    flush()
    return pieces


def _is_text(block: str) -> bool:
    stripped = block.strip()
    if _FENCE.match(stripped) and stripped.rstrip().endswith(("```", "~~~")) and stripped.count("\n") >= 1:
        return False
    if stripped.startswith("$$") and stripped.endswith("$$"):
        return False
    return bool(re.search(r"[A-Za-z]{2}", stripped))


def lesson_messages(notebook: Path, occurrence: str) -> list[Entry]:
    """The translatable blocks of a notebook's Markdown cells, in order (``occurrence``: how the catalog
    names the notebook, e.g. ``01_convolution/convolution.ipynb``)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    found: dict[str, Entry] = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for piece, text in markdown_blocks(cell.source):
            if text:
                found.setdefault(piece, Entry(piece)).occurrences.append((occurrence, cell.get("id", "")))
    return list(found.values())


# ----------------------------------------------------------------------------- refreshing a catalog


@dataclass
class CatalogReport:
    """What :func:`refresh` did to one catalog and what is left to translate there."""

    path: Path
    entries: int = 0
    new: list[str] = field(default_factory=list)  #: English texts without a translation yet
    fuzzy: list[str] = field(default_factory=list)  #: English texts whose translation is stale
    obsolete: int = 0  #: entries whose English is gone (kept as #~ for reuse)
    changed: bool = False

    def line(self, root: Path) -> str:
        try:
            where = self.path.relative_to(root)
        except ValueError:
            where = self.path
        todo = len(self.new) + len(self.fuzzy)
        state = "all translated" if not todo else f"{len(self.new)} untranslated, {len(self.fuzzy)} fuzzy (stale)"
        return f"{where}: {self.entries} entries, {state}" + (" (updated)" if self.changed else "")


def _header(language: str, project: str) -> dict[str, str]:
    plural = (
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
        if language in ("ru", "uk")
        else "nplurals=2; plural=(n != 1);"
    )
    return {
        "Project-Id-Version": project,
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": plural,
    }


def _closest(msgid: str, old: dict[str, object]) -> str | None:
    best, score = None, FUZZY_RATIO
    for candidate in old:
        matcher = difflib.SequenceMatcher(None, msgid, candidate, autojunk=False)
        if matcher.real_quick_ratio() < score or matcher.quick_ratio() < score:
            continue
        ratio = matcher.ratio()
        if ratio > score:
            best, score = candidate, ratio
    return best


def refresh(path: Path, entries: Iterable[Entry], language: str, project: str, write: bool = True) -> CatalogReport:
    """Make the catalog at ``path`` hold exactly ``entries`` (in their order), as ``msgmerge`` would: a
    known English text keeps its translation (and its fuzzy flag); a new one gets the translation of the
    most similar vanished text, marked fuzzy with the old text as ``#| msgid``, or none; vanished texts
    become obsolete (``#~``). Writes the file only when it changes (``write``: at all)."""
    import polib

    path = Path(path)
    old = polib.pofile(str(path)) if path.exists() else None
    known = {e.msgid: e for e in old} if old else {}
    po = polib.POFile(wrapwidth=120)
    po.metadata = _header(language, project)
    report = CatalogReport(path)
    used: set[str] = set()
    pending: list[polib.POEntry] = []
    for entry in entries:
        flags = ["python-brace-format"] if entry.python_format else []
        previous = known.get(entry.msgid)
        new = polib.POEntry(msgid=entry.msgid, msgstr="", occurrences=list(entry.occurrences), flags=flags)
        if previous is not None:
            used.add(entry.msgid)
            new.msgstr = previous.msgstr
            new.tcomment = previous.tcomment
            if "fuzzy" in previous.flags:
                new.flags.append("fuzzy")
                new.previous_msgid = previous.previous_msgid
        else:
            pending.append(new)
        po.append(new)
    spare = {m: e for m, e in known.items() if m not in used and e.msgstr}
    for new in pending:
        match = _closest(new.msgid, spare)
        if match is not None:
            new.msgstr = spare[match].msgstr
            new.flags.append("fuzzy")
            new.previous_msgid = match
    for msgid, e in known.items():
        if msgid not in used and e.msgstr:
            e.obsolete = True
            e.occurrences = []
            po.append(e)
    report.entries = len([e for e in po if not e.obsolete])
    report.new = [e.msgid for e in po if not e.obsolete and not e.msgstr]
    report.fuzzy = [e.msgid for e in po if not e.obsolete and e.msgstr and "fuzzy" in e.flags]
    report.obsolete = len([e for e in po if e.obsolete])
    text = po.__unicode__()
    if write and (not path.exists() or path.read_text(encoding="utf-8") != text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        report.changed = True
    return report


# ----------------------------------------------------------------------------- checking a catalog

_CODE = re.compile(r"`[^`]+`")  # a code span may be wrapped over lines
_BOLD_NUMBER = re.compile(r"\*\*([\d.,() ]*\d[\d.,() ]*)\*\*")
_MATH = re.compile(r"\$[^$\n]+\$")


def status_words(language: str) -> dict[str, str]:
    """The grader's status words in ``language`` -> English (``ПРОЙДЕНО`` -> ``PASSED``): the first words of the
    grader's messages that are written in capitals, such as ``PASSED {name}: ...``. A lesson that quotes the
    checks' output (`` `PASSED ...` ``) quotes them in its own language."""
    from .runtime import catalog

    words = {}
    for msgid, msgstr in catalog(language).items():
        english, translated = msgid.split(" ", 1)[0], msgstr.split(" ", 1)[0]
        if len(english) > 3 and english.isupper() and english.isalpha() and translated != english:
            words[translated] = english
    return words


def _signature(text: str, aliases: dict[str, str] | None = None) -> dict[str, list[str]]:
    """What a translation of a lesson block must keep exactly: code spans (their status words, e.g. ``PASSED``,
    may be in the block's language: ``aliases``), numbers in bold, inline math."""
    spans = [re.sub(r"\s+", " ", span) for span in _CODE.findall(text)]
    for translated, english in (aliases or {}).items():
        spans = [re.sub(rf"(?<=`){re.escape(translated)}\b", english, span) for span in spans]
    return {
        "code spans": sorted(spans),
        "numbers in bold": sorted(_BOLD_NUMBER.findall(text)),
        "formulas": sorted(_MATH.findall(text)),
    }


def catalog_problems(path: Path, lesson: bool = False, language: str | None = None) -> list[str]:
    """What is wrong with one catalog: untranslated or fuzzy (stale) entries, and translations whose
    placeholders differ from the English (every message), or that change a code span, a number in bold or a
    formula (``lesson``; ``language``: the catalog's, whose status words a code span may use)."""
    import polib

    path = Path(path)
    aliases = status_words(language) if language else {}
    problems = []
    for e in polib.pofile(str(path)):
        if e.obsolete:
            continue
        short = e.msgid[:70].replace("\n", " ")
        if not e.msgstr:
            problems.append(f"untranslated: {short!r}")
            continue
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy (the English changed): {short!r}")
        if sorted(placeholders(e.msgid)) != sorted(placeholders(e.msgstr)) and (
            "python-brace-format" in e.flags or lesson is False
        ):
            problems.append(
                f"placeholders {sorted(placeholders(e.msgstr))} instead of {sorted(placeholders(e.msgid))}: {short!r}"
            )
        if lesson:
            want, got = _signature(e.msgid), _signature(e.msgstr, aliases)
            for kind in want:
                if want[kind] != got[kind]:
                    missing = sorted(set(want[kind]) - set(got[kind]))
                    extra = sorted(set(got[kind]) - set(want[kind]))
                    problems.append(f"{kind} differ (missing {missing}, extra {extra}): {short!r}")
    return [f"{path.name}: {p}" for p in problems]
