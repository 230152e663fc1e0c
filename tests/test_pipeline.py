"""The class grader (`python -m grader_utils grade`): parallel, isolated, no stale scores.

One course copy with assignment 01 and a class of good, demo and broken submissions is graded
once in parallel (module fixture); the tests read what happened. Then the same class is regraded
sequentially and, separately, on a local Dask cluster: the scores must be the same.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, copy_course, load_json, nbgrader

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

A = "01_convolution"
NB = "convolution.ipynb"


def _solution_code(grade_id: str) -> str:
    nb = nbformat.read(ROOT / "source" / A / NB, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return (
        "\n".join(
            line
            for line in cell.source.splitlines()
            if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
        )
        + "\n"
    )


def _submit(course: Path, student: str, edit) -> None:
    """submitted/<student>/01_convolution/convolution.ipynb: the release notebook changed by ``edit``."""
    nb = nbformat.read(course / "release" / A / NB, as_version=4)
    edit(nb)
    dest = course / "submitted" / student / A
    dest.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        (dest / NB).write_text(nb)
    else:
        nbformat.write(nb, dest / NB)


def _answer(grade_id: str, code: str):
    def edit(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.source = code
        return nb

    return edit


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = copy_course(tmp_path_factory.mktemp("pipeline"))
    nbgrader(course, "generate_assignment", A, "--force")
    (course / "submitted").mkdir()
    for student in ("alice", "bob"):
        from grader_utils.instructor.demo import build_submission, read_answers

        dest = course / "submitted" / student / A
        dest.mkdir(parents=True)
        build_submission(course / "release" / A / NB, read_answers(ROOT / "demo" / A / f"{student}.py"), dest / NB)
    dense = _solution_code("dense_param_count")
    _submit(course, "dense_ok", _answer("dense_param_count", dense))
    _submit(course, "crasher", _answer("dense_param_count", dense + "\nimport os\nos._exit(1)"))
    _submit(course, "looper", _answer("dense_param_count", dense + "\nwhile True:\n    pass"))
    spam = "\nfor i in range(1_000_000):\n    print('spam', i)"
    _submit(course, "spammer", _answer("dense_param_count", dense + spam))
    # tampering, through nbgrader itself (the kernel is sandboxed; the engine judges)
    gradebook, source = course / "gradebook.db", course / "source" / A / NB
    _submit(
        course,
        "writer",
        _answer(
            "dense_param_count",
            dense
            + (
                f"\nimport sqlite3\ntry:\n    con = sqlite3.connect({str(gradebook)!r})\n"
                "    con.execute('update grade set auto_score = 99'); con.commit()\nexcept Exception as e:\n"
                "    print('no gradebook:', type(e).__name__)\n"
            ),
        ),
    )
    _submit(
        course,
        "reader",
        _answer(
            "dense_param_count",
            dense
            + (
                f"\ntry:\n    print(open({str(source)!r}).read())\nexcept Exception as e:\n"
                "    print('no source:', type(e).__name__)\n"
            ),
        ),
    )

    def fake(nb):
        nb.metadata["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "python"}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                meta["points"] = 100
                meta["checksum"] = "0" * 32
                cell.execution_count = 1
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="PASSED (all cases)\n")]
                cell.source = "pass"
        return nb

    _submit(course, "faker", fake)
    bad = course / "submitted" / "badjson" / A
    bad.mkdir(parents=True)
    (bad / NB).write_text('{"cells": [ this is not json')
    return course


@pytest.fixture(scope="module")
def first_run(course: Path):
    from grader_utils.instructor.pipeline import grade_assignment

    return {o.student: o for o in grade_assignment(course, A, jobs=2, task_seconds=120, preflight=False)}


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(A)}


def test_good_submissions_graded_despite_broken_ones(course, first_run):
    expected = load_json(ROOT / "demo" / "expected_scores.json")[A]
    scores = _scores(course)
    for student in ("alice", "bob"):
        assert first_run[student].status == "graded"
        assert scores[student] == sum(expected[student].values())
    assert first_run["dense_ok"].status == "graded"
    assert scores["dense_ok"] == 2.0  # the two dense_param_count tests, nothing else answered


def test_broken_submissions_are_reported_with_a_reason(course, first_run):
    assert first_run["looper"].status == "timeout" and "120 s" in first_run["looper"].reason
    assert first_run["badjson"].status == "failed" and first_run["badjson"].reason
    records = {p.parent.parent.name: load_json(p) for p in (course / "autograded").glob(f"*/{A}/*.grading.json")}
    assert {t["status"] for t in records["badjson"]["tests"]} == {"failed"}  # nbgrader cannot read it: 0, why
    assert {t["status"] for t in records["looper"]["tests"]} == {"timeout"}
    # the kernel died in the crasher's cell: nbgrader keeps going; the engine sees the exit as a crash
    crash = {t["grade_id"]: t for t in records["crasher"]["tests"]}
    assert crash["dense_param_count__basic"]["status"] == "crash"
    scores = _scores(course)
    assert scores.get("crasher", 0.0) == 0.0 and scores.get("looper", 0.0) == 0.0


def test_endless_output_is_capped_and_still_graded(course, first_run):
    assert first_run["spammer"].status == "graded"
    nb = nbformat.read(course / "autograded" / "spammer" / A / NB, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "dense_param_count")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert len(text) < 3 * 1024**2 and "truncated" in text
    assert _scores(course)["spammer"] == 2.0


def test_regrade_sequentially_gives_the_same_scores_and_keeps_manual_scores(course, first_run):
    from nbgrader.api import Gradebook

    from grader_utils.instructor.pipeline import grade_assignment

    before = _scores(course)
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db) as gb:
        grade = gb.find_grade("correlate2d__basic", "convolution", A, "bob")
        grade.manual_score = 0.5
        gb.db.commit()
    outcomes = {
        o.student: o
        for o in grade_assignment(course, A, ["alice", "bob", "dense_ok", "badjson"], jobs=1, preflight=False)
    }
    assert {s: o.status for s, o in outcomes.items()} == {s: first_run[s].status for s in outcomes}
    after = _scores(course)
    assert after["alice"] == before["alice"] and after["dense_ok"] == before["dense_ok"]
    assert after["bob"] == before["bob"] + 0.5  # bob had 0 on correlate2d__basic; the manual 0.5 stays
    with Gradebook(db) as gb:
        assert gb.find_grade("correlate2d__basic", "convolution", A, "bob").manual_score == 0.5


def test_regrade_after_a_crash_leaves_no_stale_score(course, first_run):
    from grader_utils.instructor.pipeline import grade_assignment

    assert _scores(course)["dense_ok"] == 2.0
    (course / "submitted" / "dense_ok" / A / NB).write_text("not a notebook any more")
    [outcome] = grade_assignment(course, A, ["dense_ok"], jobs=1, preflight=False)
    assert outcome.status == "failed"
    assert _scores(course)["dense_ok"] == 0.0


def test_deleted_test_cell_is_restored_and_graded(course, first_run):
    from grader_utils.instructor.pipeline import grade_assignment

    def delete(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "dense_param_count__basic"]
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "dense_param_count":
                cell.source = _solution_code("dense_param_count")
        return nb

    _submit(course, "deleter", delete)
    [outcome] = grade_assignment(course, A, ["deleter"], jobs=1, preflight=False)
    assert outcome.status == "graded"
    assert _scores(course)["deleter"] == 2.0


def test_dask_cluster_grades_like_local_workers(course, first_run):
    from distributed import LocalCluster

    from grader_utils.instructor.pipeline import grade_assignment

    before = _scores(course)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        outcomes = grade_assignment(course, A, ["alice", "bob"], scheduler=cluster.scheduler_address, preflight=False)
    assert [o.status for o in outcomes] == ["graded", "graded"]
    after = _scores(course)
    assert (after["alice"], after["bob"]) == (before["alice"], before["bob"])


def test_tampering_through_nbgrader_changes_nothing(course, first_run):
    """Writing the gradebook or reading the solutions from the notebook's kernel fails (the course
    directory is hidden); fake outputs, changed points, checksums and a bogus kernelspec earn nothing."""
    scores = _scores(course)
    expected = load_json(ROOT / "demo" / "expected_scores.json")[A]
    assert scores["writer"] == 2.0 and scores["alice"] == sum(expected["alice"].values())
    assert scores["reader"] == 2.0
    assert scores["faker"] == 0.0
    from nbgrader.api import Gradebook

    from grader_utils.grading.specs import read_specs

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        full = sum(spec.points for spec in read_specs(ROOT / "source" / A / NB))  # the instructor's points
        assert full > 0 and gb.find_submission(A, "faker").max_score == full
        assert all(
            g.auto_score is not None and g.auto_score <= g.max_score
            for s in gb.assignment_submissions(A)
            for nb in s.notebooks
            for g in nb.grades
        )

    def student_output(student: str) -> str:
        nb = nbformat.read(course / "autograded" / student / A / NB, as_version=4)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "dense_param_count")
        return "".join(o.get("text", "") for o in cell.outputs)

    assert "no gradebook:" in student_output("writer")
    assert "no source:" in student_output("reader") and "BEGIN SOLUTION" not in student_output("reader")
