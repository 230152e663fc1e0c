"""judge/suite.py: a suite's report, and the message a student reads about it (real CheckResults)."""

from __future__ import annotations

from grader_utils.judge.compare import DTYPE_SHARE_TEXT, CheckResult
from grader_utils.judge.hints import HINTS
from grader_utils.judge.suite import SuiteReport


def _wrong(message: str, hints: list[str] | None = None, **details) -> CheckResult:
    return CheckResult(False, message=message, details={"hints": hints or [], **details})


def test_a_passed_suite_says_so_in_one_line():
    report = SuiteReport("conv2d", "basic", 6)
    assert report.passed and not report.only_dtype and report.likely_cause() == (None, 0)
    assert report.message() == "PASSED conv2d: all 6 basic cases match Keras."


def test_the_likely_cause_explains_the_most_cases_and_its_case_is_shown():
    report = SuiteReport(
        "f",
        "random",
        10,
        [
            ("f(1)", _wrong("one", ["same_floor"])),
            ("f(2)", _wrong("two", ["valid_rounded_up", "same_floor"])),
            ("f(3)", _wrong("three", ["valid_rounded_up", "valid_rounded_up"])),
            ("f(4)", _wrong("four", ["valid_rounded_up"])),
        ],
    )
    assert report.likely_cause() == ("valid_rounded_up", 3)  # a key counts once per case
    message = report.message()
    assert message.startswith("f: 4 of 10 random cases are wrong.\nWrong case: f(2)\ntwo")
    assert message.endswith(f"Likely cause (3 of them): {HINTS['valid_rounded_up']}")


def test_ties_go_to_the_first_cause_seen_and_all_of_them_is_said():
    report = SuiteReport(
        "f",
        "basic",
        2,
        [
            ("f(1)", _wrong("a", ["same_floor", "valid_as_same"])),
            ("f(2)", _wrong("b", ["valid_as_same", "same_floor"])),
        ],
    )
    assert report.likely_cause() == ("same_floor", 2)
    assert "Likely cause (all of them)" in report.message()


def test_a_dtype_only_failure_says_what_is_kept():
    report = SuiteReport("f", "basic", 3, [("f(1)", _wrong("float64", problem="dtype", values_ok=True))])
    assert report.only_dtype
    assert f"keeps {DTYPE_SHARE_TEXT} of its points" in report.message()
    report.failures.append(("f(2)", _wrong("values", problem="values")))
    assert not report.only_dtype


def test_a_broken_rule_shows_the_rules_message_alone():
    report = SuiteReport("conv2d_fast", "large", 2, [("f(x)", _wrong("too slow", problem="rule"))], rule_broken=True)
    assert report.message() == "too slow" and not report.only_dtype
