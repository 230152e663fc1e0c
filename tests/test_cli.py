"""The instructor's command line: every subcommand has help; the summary says what happened."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, VENV_BIN
from grader_utils.instructor.cli import COMMANDS, build_parser, summary
from grader_utils.instructor.submission import Outcome


def test_the_parser_and_the_dispatch_know_the_same_commands():
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)


def test_cnn_course_is_installed_and_python_m_is_the_same_program():
    installed = subprocess.run([str(VENV_BIN / "cnn-course"), "--help"], capture_output=True, text=True)
    module = subprocess.run([sys.executable, "-m", "grader_utils", "--help"], capture_output=True, text=True)
    assert installed.returncode == module.returncode == 0, installed.stderr + module.stderr
    assert installed.stdout == module.stdout and all(c in module.stdout for c in COMMANDS)


def test_the_makefile_runs_the_course_only_through_cnn_course():
    """One command line: the Makefile calls no module of the package other than ``python -m grader_utils``."""
    import re

    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^CNN := \$\(PY\) -m grader_utils$", makefile, re.M)
    assert not re.findall(r"-m grader_utils\.\w+", makefile)
    for command in ("release", "demo", "grade", "feedback", "table", "report", "export"):
        assert f"$(CNN) {command}" in makefile, command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_has_help(command):
    proc = subprocess.run([sys.executable, "-m", "grader_utils", command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: cnn-course {command}")
    options = [a.option_strings for a in build_parser()._subparsers._group_actions[0].choices[command]._actions]
    for flags in options:
        for flag in flags:
            assert flag in proc.stdout


def test_grade_without_submissions_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "grader_utils", "grade", "01_convolution", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "no submissions of 01_convolution" in proc.stdout


def test_summary_counts_and_reasons():
    outcomes = [
        Outcome("ann", "a", "graded", 3, 4, 1.0),
        Outcome("ben", "a", "timeout", 0, 0, 9.0, "stopped after 9 s"),
        Outcome(
            "cy",
            "a",
            "failed",
            0,
            0,
            0.5,
            "nbgrader could not autograde it: bad JSON",
            ["convolution/conv2d__basic: crash (exit 1)"],
        ),
    ]
    text = summary(outcomes)
    lines = text.splitlines()
    assert lines[-1].startswith("1 graded, 1 failed, 1 timed out")
    row = {line.split()[0]: line for line in lines[1:-1]}
    assert "3/4" in row["ann"] and "timeout" in row["ben"] and "stopped after 9 s" in row["ben"]
    assert "bad JSON" in row["cy"] and "crash (exit 1)" in row["cy"]


def test_summary_shows_the_score_after_the_late_penalty():
    late = Outcome("dee", "a", "graded", 0, 7, 1.0, late_penalty=7)
    row = summary([late]).splitlines()[1]
    assert "0/7" in row and "late: 7 point(s) off" in row


@pytest.mark.slow
def test_export_and_report_commands_on_the_graded_class(graded_course, tmp_path):
    """The CLI's export and report write what the library functions write, for the demo class."""
    import csv

    from grader_utils.instructor.cli import main
    from grader_utils.instructor.exporters import export

    db = f"sqlite:///{graded_course / 'gradebook.db'}"
    for fmt, extra, options in (
        ("csv", [], {}),
        ("canvas", [], {}),
        ("moodle", ["--identifier", "username"], {"identifier": "username"}),
    ):
        out = tmp_path / f"{fmt}.csv"
        assert main(["export", "--format", fmt, "--to", str(out), "--root", str(graded_course), *extra]) == 0
        reference = export(db, fmt, tmp_path / f"{fmt}-reference.csv", **options)
        assert list(csv.reader(out.open())) == list(csv.reader(reference.open()))
    # the graded class has students without an email ('solution', 'untouched'): Moodle's default refuses, clearly
    assert main(["export", "--format", "moodle", "--to", str(tmp_path / "m.csv"), "--root", str(graded_course)]) == 1
    assert not (tmp_path / "m.csv").exists()
    report = tmp_path / "report.html"
    assert main(["report", "01_convolution", "--to", str(report), "--root", str(graded_course)]) == 0
    from grader_utils.instructor.table import score_table

    table = subprocess.run(
        [sys.executable, "-m", "grader_utils", "table", "01_convolution", "--json", "--root", str(graded_course)],
        capture_output=True,
        text=True,
    )
    assert table.returncode == 0, table.stderr
    import json

    assert json.loads(table.stdout) == json.loads(
        json.dumps(score_table(f"sqlite:///{graded_course / 'gradebook.db'}", "01_convolution"))
    )
    text = report.read_text()
    assert "data:image/png;base64," in text and "01_convolution" in text


def test_table_and_export_say_which_answers_need_manual_grading(hand_gradebook_file, tmp_path, capsys):
    """``cnn-course table`` marks the scores not final yet and ``cnn-course export`` names the answers that still
    need a grader (counted as 0), read from a real gradebook with cells graded by hand."""
    from conftest import copy_small_gradebook
    from grader_utils.instructor.cli import main
    from grader_utils.instructor.table import PENDING_NOTE
    from small_gradebook import HAND, HAND_PENDING

    copy_small_gradebook(hand_gradebook_file, tmp_path)
    assert main(["table", HAND[0], "--root", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert table.rstrip().endswith(PENDING_NOTE)
    assert main(["export", "--format", "moodle", "--identifier", "username", "--root", str(tmp_path)]) == 0
    note = capsys.readouterr().out.splitlines()[-1]
    waiting = "; ".join(f"{s} ({', '.join(c)})" for s, c in sorted(HAND_PENDING.items()) if c)
    assert note == f"note: {HAND[0]}: answers that need manual grading count 0 until graded: {waiting}"
