"""The course collect's copy (grader_utils/course_exchange.py) on a tree of the current user's own files: it copies
plain files and folders and refuses, without following or blocking, what a student could plant between collect's
check and its copy (symlinks, FIFOs, hard links). The attacks by real Unix users are in tests/test_exchange.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader_utils.instructor.course_exchange import Refused, check_tree, snapshot


def _submission(tmp_path: Path) -> Path:
    sub = tmp_path / "inbound" / "s+01+2026-01-01 00:00:00.000000 UTC+r"
    (sub / "data").mkdir(parents=True)
    (sub / "nb.ipynb").write_text("{}")
    (sub / "data" / "x.txt").write_text("x")
    return sub


def _snapshot(sub: Path, dest: Path, budget: int = 10**6) -> None:
    parent = os.open(sub.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        snapshot(parent, sub.name, str(dest), os.getuid(), [budget])
    finally:
        os.close(parent)


def test_a_plain_submission_is_copied(tmp_path: Path) -> None:
    sub = _submission(tmp_path)
    check_tree(str(sub), os.getuid())
    _snapshot(sub, tmp_path / "copy")
    assert (tmp_path / "copy" / "nb.ipynb").read_text() == "{}"
    assert (tmp_path / "copy" / "data" / "x.txt").read_text() == "x"


@pytest.mark.parametrize(
    "plant, why",
    [
        (lambda sub, secret: (sub / "data" / "stolen").symlink_to(secret), "is a symlink"),
        (lambda sub, secret: (sub / "data.lnk").symlink_to(secret.parent, target_is_directory=True), "is a symlink"),
        (lambda sub, secret: os.mkfifo(sub / "pipe"), "not a plain file or folder"),
        (lambda sub, secret: os.link(secret, sub / "hard"), "is a hard link"),
    ],
)
def test_planted_links_and_fifos_are_refused_by_the_check_and_by_the_copy(tmp_path: Path, plant, why: str) -> None:
    secret = tmp_path / "private" / "solution.ipynb"
    secret.parent.mkdir()
    secret.write_text("BEGIN SOLUTION")
    sub = _submission(tmp_path)
    plant(sub, secret)
    with pytest.raises(Refused, match=why):
        check_tree(str(sub), os.getuid())
    with pytest.raises(Refused, match=why):  # the copy checks again, on what it opens (a race after the check)
        _snapshot(sub, tmp_path / "copy")
    copied = [p for p in (tmp_path / "copy").rglob("*") if p.is_file()]
    assert not any("BEGIN SOLUTION" in p.read_text() for p in copied)


def test_a_submission_in_someone_elses_files_is_refused(tmp_path: Path) -> None:
    sub = _submission(tmp_path)
    with pytest.raises(Refused, match="is owned by"):
        check_tree(str(sub), os.getuid() + 1)
    with pytest.raises(Refused, match="is owned by"):
        snapshot_parent = tmp_path / "copy"
        parent = os.open(sub.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            snapshot(parent, sub.name, str(snapshot_parent), os.getuid() + 1, [10**6])
        finally:
            os.close(parent)


def test_a_submission_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    sub = _submission(tmp_path)
    (sub / "big.bin").write_bytes(b"0" * 5000)
    with pytest.raises(Refused, match="larger"):
        _snapshot(sub, tmp_path / "copy", budget=4000)


def test_student_ids_map_to_unix_users_through_the_configured_function() -> None:
    import pwd

    from traitlets.config import Config

    from grader_utils.instructor.course_exchange import CourseExchangeCollect

    me = pwd.getpwuid(os.getuid()).pw_name
    assert CourseExchangeCollect().expected_uid(me) == os.getuid()  # default: the id is the user name
    config = Config()
    config.CourseExchangeCollect.unix_user_of = lambda student_id: student_id.removeprefix("id-")
    collect = CourseExchangeCollect(config=config)
    assert collect.expected_uid(f"id-{me}") == os.getuid()
    with pytest.raises(Refused, match="no Unix user"):
        CourseExchangeCollect().expected_uid(f"id-{me}")
