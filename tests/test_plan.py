"""grading/plan.py: the calls the engine makes for the real source notebooks, hidden seeds, time rules."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, assignments
from grader_utils.grading import plan
from grader_utils.grading.layout import CourseLayout
from grader_utils.grading.specs import read_specs
from grader_utils.judge import timing
from grader_utils.judge.registry import ARRAY_EXERCISES

SECRET = b"a course secret of the test"


def _specs() -> list[tuple[str, list]]:
    layout = CourseLayout(ROOT)
    return [(f"{a}/{nb.stem}", read_specs(nb)) for a in assignments() for nb in layout.source_notebooks(a)]


def _same(a: object, b: object) -> bool:
    """Plain-data requests compare equal (arrays by value)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _notebooks() -> list:
    """Each source notebook's specs; one with model checks is marked ``keras`` (their planners build Keras
    models)."""
    return [
        pytest.param(
            context,
            specs,
            id=context,
            marks=[pytest.mark.keras] if any(c.model for s in specs for c in s.calls) else [],
        )
        for context, specs in _specs()
    ]


@pytest.mark.parametrize("context,specs", _notebooks())
def test_every_engine_test_cell_of_the_source_notebooks_is_planned(context, specs):
    calls, planned = plan._plan(specs, SECRET, context, plan.submission_digest(["def f(): pass"]))
    engine_specs = [s for s in specs if s.engine]
    assert engine_specs, f"{context}: no test cell graded by the engine"
    assert [s.grade_id for s, _ in planned] == [s.grade_id for s in engine_specs]
    used = [i for _, items in planned for item in items for i in item.indexes]
    assert sorted(used) == list(range(len(calls))), "every call belongs to exactly one case"
    for spec, items in planned:
        assert items, f"{spec.grade_id}: no case"
        funcs = {c.func for c in spec.calls if not c.model} | {f for c in spec.calls for f in c.funcs}
        for item in items:
            assert all(calls[i].get("func") in funcs or not funcs for i in item.indexes)
            assert len(item.indexes) == (2 if item.timed else 1), "a timed case is called twice"
            if item.timed:  # each time on an input of its own: the same shapes, other values (#23 item 3)
                first, again = (calls[i] for i in item.indexes)
                assert _same(first["args"], list(item.case.args)) and _same(again["args"], list(item.cases[1].args))
                assert [np.shape(a) for a in first["args"]] == [np.shape(a) for a in again["args"]]
                assert not _same(first["args"], again["args"]) and first["kwargs"] == again["kwargs"]


def _array_spec_with_hidden_call():
    for _, specs in _specs():
        for spec in specs:
            if spec.engine and any(c.hidden and not c.model for c in spec.calls):
                return spec
    pytest.fail("no source notebook has a hidden array check")


def test_hidden_inputs_come_from_the_secret_and_the_students_code():
    spec = _array_spec_with_hidden_call()
    digest, other = plan.submission_digest(["x = 1"]), plan.submission_digest(["x = 2"])
    base, _ = plan._plan([spec], SECRET, "a/nb", digest)
    assert _same(base, plan._plan([spec], SECRET, "a/nb", digest)[0]), "a regrade makes the same calls"
    for changed in (
        plan._plan([spec], SECRET, "a/nb", other)[0],
        plan._plan([spec], b"another", "a/nb", digest)[0],
        plan._plan([spec], SECRET, "b/nb", digest)[0],
    ):
        assert len(changed) == len(base) and not _same(changed, base)
    # without a secret (a notebook graded on its own), the hidden call uses the seed written in the cell
    unseeded, _ = plan._plan([spec], None, "a/nb", digest)
    assert _same(unseeded, plan._plan([spec], None, "b/nb", other)[0])


def test_visible_inputs_do_not_depend_on_the_secret():
    for _, specs in _specs():
        visible = [s for s in specs if s.engine and not any(c.hidden for c in s.calls)]
        if visible:
            a, _ = plan._plan(visible, SECRET, "a/nb", plan.submission_digest(["x = 1"]))
            b, _ = plan._plan(visible, b"another", "b/nb", plan.submission_digest(["x = 2"]))
            assert _same(a, b)
            return
    pytest.fail("no visible engine test cell in the source notebooks")


def test_hidden_seed_changes_with_every_part_and_fits_64_bits():
    args = (SECRET, "01/convolution", "conv__hidden", "check_conv2d", 7, plan.submission_digest(["a"]))
    seed = plan.hidden_seed(*args)
    assert seed == plan.hidden_seed(*args) and 0 <= seed < 2**64
    for i, other in enumerate((b"x", "02/nb", "other_id", "check_other", 8, plan.submission_digest(["b"]))):
        changed = list(args)
        changed[i] = other
        assert plan.hidden_seed(*changed) != seed, f"argument {i} is not mixed in"


def test_submission_digest_sees_the_cells_and_their_boundaries():
    d = plan.submission_digest(["ab", "c"])
    assert d == plan.submission_digest(["ab", "c"]) and len(d) == 64
    assert (
        len(
            {
                d,
                plan.submission_digest(["a", "bc"]),
                plan.submission_digest(["abc"]),
                plan.submission_digest(["c", "ab"]),
                plan.submission_digest([]),
            }
        )
        == 5
    )


def test_second_try_only_when_it_can_change_the_verdict():
    floor = timing.TIME_FLOOR
    assert not plan.second_try_needed(limit=floor, seconds=floor / 2 - 1e-3)  # well inside any limit
    assert plan.second_try_needed(limit=floor, seconds=floor / 2)
    assert plan.second_try_needed(limit=2.0, seconds=4.0)  # up to twice the limit: noise may explain it
    assert not plan.second_try_needed(limit=2.0, seconds=4.01)  # a loop over pixels


def test_timed_call_alarm_is_three_limits_at_least_two_seconds_at_most_the_call_limit():
    assert plan.timed_call_seconds(limit=0.1, call_seconds=20) == 2
    assert plan.timed_call_seconds(limit=1.2, call_seconds=20) == int(np.ceil(plan.TIMED_ALARM_FACTOR * 1.2))
    assert plan.timed_call_seconds(limit=30, call_seconds=20) == 20


def test_a_timed_case_measures_its_limit_once():
    timed = [(name, ex) for name, ex in ARRAY_EXERCISES.items() if ex.timed]
    assert timed, "the registry has a timed exercise (conv2d_fast)"
    spec = next(
        s
        for _, specs in _specs()
        for s in specs
        if s.engine and any(c.check == timed[0][0] and c.suite in timed[0][1].timed for c in s.calls)
    )
    _, planned = plan._plan([spec], None, "a/nb", plan.submission_digest([]))
    item = next(i for _, items in planned for i in items if i.timed)
    first = item.time_limit()
    assert first >= timing.TIME_FLOOR and item.time_limit() == first and item.limit == first


@pytest.mark.keras
def test_a_right_answer_slower_than_its_limit_breaks_the_time_rule():
    """A timed case's verdict: Keras' verdict on the value, then the time rule (seconds measured outside)."""
    spec = next(
        s
        for _, specs in _specs()
        for s in specs
        if s.engine and any(c.check in ARRAY_EXERCISES and c.suite in ARRAY_EXERCISES[c.check].timed for c in s.calls)
    )
    _, planned = plan._plan([spec], None, "a/nb", plan.submission_digest([]))
    item = next(i for _, items in planned for i in items if i.timed)
    right = timing._whole_array_conv(*item.case.args, **item.case.kwargs)  # NumPy; the verdict asks Keras
    assert item.verdict(item.case, right, 0.9, 1.0).passed
    slow = item.verdict(item.case, right, 1.5, 1.0)
    assert not slow.passed and slow.details == {"problem": "rule"} and "1.50 s" in slow.message
    assert not item.verdict(item.case, np.zeros_like(right), 0.1, 1.0).passed


def test_submission_digest_sees_the_student_and_every_file_of_the_folder(tmp_path):
    """Issue #23 item 2: the same notebook by another student, or beside one more data file, or with one byte
    of any file changed, gives other hidden inputs; the same folder again gives the same (regrades)."""
    folder = tmp_path / "sub"
    (folder / "data").mkdir(parents=True)
    (folder / "nb.ipynb").write_text("{}")
    (folder / "data" / "a.npy").write_bytes(b"\x00" * 10)
    cells = ["def f(x):\n    return x"]
    base = plan.submission_digest(cells, "ann", folder)
    assert base == plan.submission_digest(cells, "ann", folder)
    seen = {base, plan.submission_digest(cells, "bob", folder), plan.submission_digest(cells, "ann")}
    (folder / "answers.json").write_text("[]")  # a data file beside the same notebook
    seen.add(plan.submission_digest(cells, "ann", folder))
    (folder / "answers.json").write_text("[1]")
    seen.add(plan.submission_digest(cells, "ann", folder))
    (folder / "answers.json").unlink()
    (folder / "data" / "a.npy").write_bytes(b"\x00" * 9 + b"\x01")  # one byte deep in a subfolder
    seen.add(plan.submission_digest(cells, "ann", folder))
    (folder / "data" / "a.npy").rename(folder / "data" / "b.npy")  # a name
    seen.add(plan.submission_digest(cells, "ann", folder))
    assert len(seen) == 7
    # file boundaries count: moving bytes from one file's end to another's start changes it
    one, two = tmp_path / "one", tmp_path / "two"
    for f, (a, b) in ((one, ("ab", "c")), (two, ("a", "bc"))):
        f.mkdir()
        (f / "x").write_text(a)
        (f / "y").write_text(b)
    assert plan.folder_digest(one) != plan.folder_digest(two)


def _timed_spec():
    for _, specs in _specs():
        for spec in specs:
            if spec.engine and any(c.suite == "large" and not c.model for c in spec.calls):
                return spec
    pytest.fail("no source notebook has a timed check")


def test_timed_inputs_are_new_to_everyone_and_each_call_gets_its_own():
    """Issue #23 item 3: a timed case's inputs come from the course secret and the submission even in a visible
    test (so no answer can be prepared), and its second call gets another input (so no answer can be cached)."""
    from dataclasses import replace

    hidden = _timed_spec()
    spec = replace(hidden, calls=[replace(c, hidden=False) for c in hidden.calls])  # the same test, visible
    digest = plan.submission_digest(["x = 1"])
    base, planned = plan._plan([spec], SECRET, "a/nb", digest)
    assert _same(base, plan._plan([spec], SECRET, "a/nb", digest)[0]), "a regrade makes the same calls"
    assert not _same(base, plan._plan([spec], SECRET, "a/nb", plan.submission_digest(["x = 2"]))[0])
    [(_, items)] = planned
    timed = [item for item in items if item.timed]
    assert timed and all(item.case_of(item.indexes[1]) is item.cases[1] for item in timed)


def test_fresh_input_keeps_shapes_dtypes_and_spread():
    from grader_utils.judge.case import Case

    rng = np.random.default_rng(0)
    case = Case((rng.normal(2.0, 3.0, (64, 64, 3)).astype(np.float32), np.arange(4), 5), {"padding": "same"})
    fresh = plan.fresh_input(case, 7)
    assert fresh.args[0].shape == (64, 64, 3) and fresh.args[0].dtype == np.float32
    assert not np.allclose(fresh.args[0], case.args[0])
    assert abs(fresh.args[0].mean() - 2.0) < 0.3 and abs(fresh.args[0].std() - 3.0) < 0.3
    assert np.array_equal(fresh.args[1], case.args[1]) and fresh.args[2] == 5 and fresh.kwargs == case.kwargs
    assert _same(list(plan.fresh_input(case, 7).args), list(fresh.args))  # the same seed, the same input
