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


def test_mapping_set_once_applies_to_collect_and_list() -> None:
    import pwd

    from traitlets.config import Config

    from grader_utils.instructor.course_exchange import CourseExchangeCollect, CourseExchangeList

    me = pwd.getpwuid(os.getuid()).pw_name
    config = Config()
    config.CourseInbound.unix_user_of = lambda student_id: student_id.removeprefix("id-")
    for cls in (CourseExchangeCollect, CourseExchangeList):
        assert cls(config=config).expected_uid(f"id-{me}") == os.getuid()


def _other_user() -> str:
    """An existing Unix user that is not the one running the test."""
    import pwd

    return next(p.pw_name for p in pwd.getpwall() if p.pw_uid != os.getuid())


def _inbound_exchange(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """An exchange whose inbound/ holds one real submission of the current user and three it must not list:
    a folder in another user's name, a symlink to a folder, and a folder with a FIFO (all made by this user).

    Returns (exchange root, the real folder, {refused folder name: why})."""
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    inbound = tmp_path / "exchange" / "course" / "inbound"
    inbound.mkdir(parents=True)
    real = inbound / f"{me}+01+2026-01-01 00:00:00.000000 UTC+r"
    real.mkdir()
    (real / "nb.ipynb").write_text("{}")
    other = _other_user()
    forged = inbound / f"{other}+01+2099-01-01 00:00:00.000000 UTC+f"
    forged.mkdir()
    (forged / "nb.ipynb").write_text("{}")
    private = tmp_path / "private"
    private.mkdir()
    (private / "nb.ipynb").write_text("BEGIN SOLUTION")
    link = inbound / f"{me}+01+2098-01-01 00:00:00.000000 UTC+l"
    link.symlink_to(private, target_is_directory=True)
    fifo = inbound / f"{me}+01+2097-01-01 00:00:00.000000 UTC+p"
    fifo.mkdir()
    (fifo / "nb.ipynb").write_text("{}")
    os.mkfifo(fifo / "pipe")
    refused = {
        forged.name: f"claims student id '{other}' but is owned by {me}",
        link.name: "is a symlink",
        fifo.name: "is not a plain file or folder",
    }
    return tmp_path / "exchange", real, refused


def _list_inbound(cls: type, root: Path, caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    """``cls``'s ``nbgrader list --inbound`` of course ``course``: (listed folder names, warnings logged)."""
    import logging

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    caplog.clear()
    log = logging.getLogger(f"test-list-{cls.__name__}")
    with caplog.at_level(logging.WARNING, logger=log.name):
        coursedir = CourseDirectory(course_id="course", root=str(root.parent))
        lister = cls(coursedir=coursedir, authenticator=Authenticator(), root=str(root), inbound=True, log=log)
        found = lister.start()
    warnings = [r.getMessage() for r in caplog.records if r.name == log.name and r.levelno >= logging.WARNING]
    return [Path(s["path"]).name for a in found for s in a["submissions"]], warnings


def test_the_inbound_list_leaves_out_what_collect_refuses(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from nbgrader.exchange.default.list import ExchangeList

    from grader_utils.instructor.course_exchange import CourseExchangeList, inbound_refusal

    root, real, refused = _inbound_exchange(tmp_path)
    listed, _ = _list_inbound(ExchangeList, root, caplog)  # nbgrader's own list shows every folder
    assert sorted(listed) == sorted([real.name, *refused])
    listed, warnings = _list_inbound(CourseExchangeList, root, caplog)
    assert listed == [real.name]
    for name, why in refused.items():
        line = next((w for w in warnings if name in w), "")
        assert line.startswith("Not listing") and why in line, (name, warnings)
        assert why in (inbound_refusal(str(real.parent / name)) or "")  # the very function collect asks
    assert not [w for w in warnings if real.name in w]
    assert inbound_refusal(str(real)) is None


def test_the_outbound_list_is_nbgraders(tmp_path: Path) -> None:
    """Students' list of released assignments is untouched (no ownership check on the instructor's folders)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    from grader_utils.instructor.course_exchange import CourseExchangeList

    (tmp_path / "exchange" / "course" / "outbound" / "01").mkdir(parents=True)
    (tmp_path / "exchange" / "course" / "outbound" / "01" / "nb.ipynb").write_text("{}")
    coursedir = CourseDirectory(course_id="course", root=str(tmp_path))
    found = CourseExchangeList(
        coursedir=coursedir, authenticator=Authenticator(), root=str(tmp_path / "exchange")
    ).start()
    assert [a["assignment_id"] for a in found] == ["01"]


def test_a_fifo_notebook_stalls_nbgraders_list_but_not_the_courses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """nbgrader's list opens a notebook of a folder without a submission secret to hash it: a FIFO named like a
    notebook blocks it until someone writes to the FIFO. The course's list leaves that folder out unopened."""
    import threading

    from nbgrader.exchange.default.list import ExchangeList

    from grader_utils.instructor.course_exchange import CourseExchangeList

    root, real, _ = _inbound_exchange(tmp_path)
    stall = real.parent / f"{real.name.split('+')[0]}+01+2096-01-01 00:00:00.000000 UTC+s"
    stall.mkdir()
    os.mkfifo(stall / "nb.ipynb")
    default = threading.Thread(target=_list_inbound, args=(ExchangeList, root, caplog), daemon=True)
    default.start()
    default.join(timeout=3)
    stalled = default.is_alive()
    for _ in range(100):  # let it go on: nbgrader opens the FIFO twice, each open waits for a writer
        if not default.is_alive():
            break
        try:
            os.close(os.open(stall / "nb.ipynb", os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # ENXIO: no reader at this moment
            pass
        default.join(timeout=0.1)
    assert stalled, "nbgrader's list did not stall on the FIFO (then this test shows nothing)"
    listed, warnings = _list_inbound(CourseExchangeList, root, caplog)
    assert listed == [real.name]
    assert any(stall.name in w and "is not a plain file or folder" in w for w in warnings), warnings


# --- times come from the exchange (issue #23, item 4) ----------------------------------------------------------

FORGED = "2026-11-09 10:00:00.000000 UTC"  # before the small gradebook's due date of a1_shapes (2026-11-10 12:00)


def _late_submission(tmp_path: Path) -> tuple[Path, Path]:
    """A submission made now (after a1_shapes' due date) whose student rewrote its folder name, its
    ``timestamp.txt`` and its files' modification times to a moment before the due date. Returns (exchange root,
    the inbound folder)."""
    import pwd
    from datetime import datetime

    me = pwd.getpwuid(os.getuid()).pw_name
    inbound = tmp_path / "exchange" / "course" / "inbound"
    inbound.mkdir(parents=True)
    sub = inbound / f"{me}+a1_shapes+{FORGED}+r"
    sub.mkdir()
    (sub / "shapes.ipynb").write_text("{}")
    (sub / "timestamp.txt").write_text(FORGED)
    then = datetime(2026, 11, 9, 10, 0).timestamp()
    for p in (sub / "shapes.ipynb", sub / "timestamp.txt", sub):
        os.utime(p, (then, then))  # what a student can do to their own files
    return tmp_path / "exchange", sub


def _collect(cls: type, exchange: Path, course: Path, db_url: str, caplog, **kw) -> list[str]:
    """``cls``'s collect of a1_shapes into ``course/submitted`` (in this process); returns its warnings."""
    import logging

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    caplog.clear()
    log = logging.getLogger(f"test-collect-{cls.__name__}")
    with caplog.at_level(logging.INFO, logger=log.name):
        coursedir = CourseDirectory(course_id="course", root=str(course), db_url=db_url, assignment_id="a1_shapes")
        cls(coursedir=coursedir, authenticator=Authenticator(), root=str(exchange), log=log, **kw).start()
    return [r.getMessage() for r in caplog.records if r.name == log.name and r.levelno >= logging.WARNING]


def _submitted_time(course: Path):
    import pwd

    from nbgrader.utils import parse_utc

    me = pwd.getpwuid(os.getuid()).pw_name
    return parse_utc((course / "submitted" / me / "a1_shapes" / "timestamp.txt").read_text().strip())


def test_collect_times_a_submission_by_the_exchange_not_by_the_student(
    small_gradebook_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A late student rewrites their folder name, timestamp.txt and mtimes: nbgrader's collect takes the forged
    time (no late penalty); the course's takes the time the exchange received the files, and records it in the
    course directory; a change after that time is marked and counts."""
    import json
    import time
    from datetime import datetime, timezone

    from nbgrader.exchange.default.collect import ExchangeCollect
    from nbgrader.utils import parse_utc

    from conftest import copy_small_gradebook
    from grader_utils.instructor.course_exchange import CourseExchangeCollect

    started = datetime.now(timezone.utc).replace(tzinfo=None)
    course = tmp_path / "course"
    course.mkdir()
    db_url = copy_small_gradebook(small_gradebook_file, course)
    exchange, sub = _late_submission(tmp_path)
    due = parse_utc("2026-11-10 12:00:00 UTC")

    _collect(ExchangeCollect, exchange, course, db_url, caplog)
    assert _submitted_time(course) == parse_utc(FORGED) < due, "nbgrader's own collect is fooled (the threat)"

    import shutil

    shutil.rmtree(course / "submitted")
    warnings = _collect(CourseExchangeCollect, exchange, course, db_url, caplog)
    received = _submitted_time(course)
    assert received >= started.replace(microsecond=0) and received > due, (received, started)
    assert any(FORGED in w and "which counts" in w for w in warnings), warnings
    receipts = [json.loads(line) for line in (course / CourseExchangeCollect.RECEIPTS).read_text().splitlines()]
    assert [(r["folder"], r["claimed"], r["marked"]) for r in receipts] == [(sub.name, FORGED, [])]
    assert parse_utc(receipts[0]["received"]) == received

    # the student edits the submission after it was collected: the next collect marks it, and the later time counts
    time.sleep(0.05)
    (sub / "shapes.ipynb").write_text('{"changed": 1}')
    os.utime(sub / "shapes.ipynb", (0, 0))
    warnings = _collect(CourseExchangeCollect, exchange, course, db_url, caplog, update=True)
    assert any("changed after it was received" in w for w in warnings), warnings
    assert _submitted_time(course) > received
    last = json.loads((course / CourseExchangeCollect.RECEIPTS).read_text().splitlines()[-1])
    assert last["marked"] and parse_utc(last["received"]) == _submitted_time(course)


def test_a_change_during_the_copy_counts(tmp_path: Path) -> None:
    """The copy takes each entry's change time after reading it: a write while collect copies moves the time on."""
    from grader_utils.instructor.course_exchange import received_at

    sub = _submission(tmp_path)
    before = received_at(str(sub))
    changed = [0.0]
    parent = os.open(sub.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        snapshot(parent, sub.name, str(tmp_path / "copy"), os.getuid(), [10**6], changed=changed)
    finally:
        os.close(parent)
    assert changed[0] == before
    import time

    time.sleep(0.05)
    (sub / "data" / "x.txt").write_text("y")
    assert received_at(str(sub)) > before
