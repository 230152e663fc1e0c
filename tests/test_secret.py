"""grading/secret.py: the course secret is made once, kept private, shared through a file, and checked."""

from __future__ import annotations

import stat

import pytest

from grader_utils.grading.secret import SECRET_NAME, course_secret


def test_the_secret_is_made_once_private_and_random(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_COURSE_SECRET_FILE", raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    secret = course_secret(a)
    assert len(secret) == 32 and course_secret(a) == secret
    assert stat.S_IMODE((a / SECRET_NAME).stat().st_mode) == 0o600
    assert course_secret(b) != secret
    assert sorted(p.name for p in a.iterdir()) == [SECRET_NAME], "no temporary file is left behind"


def test_a_secret_file_named_by_the_environment_wins(tmp_path, monkeypatch):
    shared = tmp_path / "cluster" / "secret"
    monkeypatch.setenv("CNN_COURSE_SECRET_FILE", str(shared))
    secret = course_secret(tmp_path / "course")
    assert shared.read_text().strip() == secret.hex() and not (tmp_path / "course" / SECRET_NAME).exists()


@pytest.mark.parametrize("text", ["not hex", "ab" * 15])
def test_a_bad_secret_is_refused(tmp_path, monkeypatch, text):
    monkeypatch.delenv("CNN_COURSE_SECRET_FILE", raising=False)
    (tmp_path / SECRET_NAME).write_text(text)
    with pytest.raises(ValueError):
        course_secret(tmp_path)
