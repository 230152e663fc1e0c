"""The instructor's command line: every subcommand has help; the summary says what happened."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader_utils.cli import build_parser, summary
from grader_utils.pipeline import Outcome


@pytest.mark.parametrize("command", ["grade", "feedback", "export", "report"])
def test_every_subcommand_has_help(command):
    proc = subprocess.run([sys.executable, "-m", "grader_utils", command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: cnn-course {command}")
    options = [a.option_strings for a in build_parser()._subparsers._group_actions[0].choices[command]._actions]
    for flags in options:
        for flag in flags:
            assert flag in proc.stdout


def test_grade_without_submissions_says_so(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader_utils", "grade", "01_convolution", "--root", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "no submissions of 01_convolution" in proc.stdout


def test_summary_counts_and_reasons():
    outcomes = [Outcome("ann", "a", "graded", 3, 4, 1.0), Outcome("ben", "a", "timeout", 0, 0, 9.0, "stopped after 9 s"),
                Outcome("cy", "a", "failed", 0, 0, 0.5, "nbgrader could not autograde it: bad JSON",
                        ["convolution/conv2d__basic: crash (exit 1)"])]
    text = summary(outcomes)
    lines = text.splitlines()
    assert lines[-1].startswith("1 graded, 1 failed, 1 timed out")
    row = {line.split()[0]: line for line in lines[1:-1]}
    assert "3/4" in row["ann"] and "timeout" in row["ben"] and "stopped after 9 s" in row["ben"]
    assert "bad JSON" in row["cy"] and "crash (exit 1)" in row["cy"]


@pytest.mark.slow
def test_export_and_report_commands_on_the_graded_class(graded_course, tmp_path):
    """The CLI's export and report write what the library functions write, for the demo class."""
    import csv

    from grader_utils.cli import main
    from grader_utils.exporters import export

    db = f"sqlite:///{graded_course / 'gradebook.db'}"
    for fmt, extra, options in (("csv", [], {}), ("canvas", [], {}),
                                ("moodle", ["--identifier", "username"], {"identifier": "username"})):
        out = tmp_path / f"{fmt}.csv"
        assert main(["export", "--format", fmt, "--to", str(out), "--root", str(graded_course), *extra]) == 0
        reference = export(db, fmt, tmp_path / f"{fmt}-reference.csv", **options)
        assert list(csv.reader(out.open())) == list(csv.reader(reference.open()))
    # the graded class has students without an email ('solution', 'untouched'): Moodle's default refuses, clearly
    assert main(["export", "--format", "moodle", "--to", str(tmp_path / "m.csv"), "--root", str(graded_course)]) == 1
    assert not (tmp_path / "m.csv").exists()
    report = tmp_path / "report.html"
    assert main(["report", "01_convolution", "--to", str(report), "--root", str(graded_course)]) == 0
    text = report.read_text()
    assert "data:image/png;base64," in text and "01_convolution" in text
