"""Real nbgrader on real kernels: solutions score full marks, untouched release
notebooks score 0, each demo submission scores exactly what demo/expected_scores.json says,
and no test cell of a correct notebook writes to stderr."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT, assignments, load_json

pytestmark = pytest.mark.slow

EXPECTED = load_json(ROOT / "demo" / "expected_scores.json")


@pytest.mark.parametrize("assignment", assignments())
def test_solution_scores_full_marks(scores, assignment):
    table = scores[assignment]
    got = table["students"]["solution"]
    assert table["tests"], "the assignment has no graded test cells"
    lost = {t: (got.get(t), table["max"][t]) for t in table["tests"] if got.get(t) != table["max"][t]}
    assert not lost, f"the instructor's solution loses points: {lost}"


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_scores_zero(scores, assignment):
    got = scores[assignment]["students"]["untouched"]
    earned = {t: s for t, s in got.items() if s}
    assert set(got) == set(scores[assignment]["tests"])
    assert not earned, f"an unanswered notebook earns points: {earned}"


@pytest.mark.parametrize("assignment", sorted(EXPECTED))
def test_demo_class_scores_as_expected(scores, assignment):
    table = scores[assignment]
    for student, expected in EXPECTED[assignment].items():
        got = {t: table["students"][student].get(t) for t in expected}
        assert got == expected, f"{student}: got {got}"
        assert set(expected) == set(table["tests"]), f"{student}: expected scores must cover every test cell"


def _test_cells(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment", assignments())
def test_no_stderr_and_clear_pass_lines(graded_course, assignment):
    for nb_path in (graded_course / "autograded" / "solution" / assignment).glob("*.ipynb"):
        for cell in _test_cells(nb_path):
            gid = cell.metadata["nbgrader"]["grade_id"]
            streams = [o for o in cell.outputs if o.output_type == "stream"]
            assert not [o for o in streams if o.name == "stderr"], f"{gid} wrote to stderr"
            assert any("PASSED" in o.text for o in streams), f"{gid} printed no PASSED line"


@pytest.mark.parametrize("assignment", assignments())
def test_unanswered_exercises_fail_with_not_implemented(graded_course, assignment):
    for nb_path in (graded_course / "autograded" / "untouched" / assignment).glob("*.ipynb"):
        for cell in _test_cells(nb_path):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert errors, cell.metadata["nbgrader"]["grade_id"]
            # the kernel's NotImplementedError, or the engine's verdict that replaced it
            assert "not implemented yet" in errors[0].evalue, errors[0].evalue


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_shows_messages_but_no_hidden_tests(graded_course, assignment):
    hidden_lines = set()
    for nb_path in (graded_course / "source" / assignment).glob("*.ipynb"):
        for cell in _test_cells(nb_path):
            region = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
            hidden_lines |= {
                line.strip()
                for r in region
                for line in r.splitlines()
                if line.strip() and not line.strip().startswith("from ")
            }
    assert hidden_lines, "expected hidden tests in the source notebook"
    for student in EXPECTED.get(assignment, {}):
        for html in (graded_course / "feedback" / student / assignment).glob("*.html"):
            text = re.sub(r"<[^>]+>", "", html.read_text())
            text = re.sub(r"&#39;|&quot;", "'", text)
            assert "HIDDEN TESTS" not in text, f"{html}"
            leaked = [line for line in hidden_lines if line.replace('"', "'") in text]
            assert not leaked, f"{html} shows hidden test code: {leaked}"


@pytest.mark.parametrize("assignment", assignments())
def test_every_notebook_has_an_engine_record(graded_course, assignment):
    """`make grade` leaves a status and a reason per test cell, for every submission."""
    import json

    for nb_dir in (graded_course / "autograded").glob(f"*/{assignment}"):
        records = list(nb_dir.glob("*.grading.json"))
        assert records, f"no grading record in {nb_dir}"
        for record in records:
            tests = json.loads(record.read_text())["tests"]
            known = ("ok", "dtype", "wrong", "timeout", "crash", "invalid", "integrity", "kernel")
            assert tests and all(t["status"] in known for t in tests)
            assert all(t["reason"] for t in tests if t["status"] not in ("ok",)), record


@pytest.mark.parametrize("assignment", sorted(EXPECTED))
def test_test_cell_outputs_give_nbgrader_the_gradebook_scores(graded_course, scores, assignment):
    """nbgrader's own scoring of each autograded test cell (what SaveAutoGrades and the formgrader's
    Autograde read) equals the gradebook's score, partial points included (a dtype slip keeps part)."""
    from nbgrader.utils import determine_grade

    table, partial = scores[assignment], []
    for student in EXPECTED[assignment]:
        for nb_path in (graded_course / "autograded" / student / assignment).glob("*.ipynb"):
            for cell in _test_cells(nb_path):
                gid = cell.metadata["nbgrader"]["grade_id"]
                got, _ = determine_grade(cell)
                assert got == table["students"][student][gid], (student, gid, cell.outputs)
                if 0 < got < table["max"][gid]:
                    partial.append(gid)
                    assert "right values, wrong dtype" in cell.outputs[0]["text"]
    expected_partial = [t for s in EXPECTED[assignment].values() for t, v in s.items() if 0 < v < table["max"][t]]
    assert sorted(partial) == sorted(expected_partial)
