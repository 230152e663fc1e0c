"""Test modules mirror modules: every module of grader_utils (at any depth, by its file stem) has
tests/test_<stem>.py, except the few listed in :data:`NO_TEST_MODULE` with the reason."""

from __future__ import annotations

from conftest import ROOT

#: module stem -> why it has no test module of its own
NO_TEST_MODULE = {
    "__init__": "package markers and the notebook API's re-exports: their names are used by every test",
    "__main__": "`python -m grader_utils` is cnn-course's entry point, tested in test_cli.py",
}


def _stems() -> set[str]:
    return {p.stem for p in (ROOT / "grader_utils").rglob("*.py")}


def test_every_module_has_a_test_module_of_its_name():
    missing = sorted(s for s in _stems() - set(NO_TEST_MODULE) if not (ROOT / "tests" / f"test_{s}.py").exists())
    assert not missing, "modules without tests/test_<stem>.py: " + ", ".join(missing)


def test_every_exception_is_still_a_module():
    assert set(NO_TEST_MODULE) <= _stems()
