"""The course's nbgrader exchange on a shared machine (the hub; issue #14, item 3): nobody submits in another
student's name, and no student reads another's submission.

Collect.
nbgrader's exchange is a world-writable folder: a submission is a folder ``inbound/{student_id}+{assignment}+
{timestamp}+{random}`` that the student's own `nbgrader submit` creates, and nothing stops a student from making
such a folder by hand. nbgrader's default `collect` trusts the name: it takes the newest folder per claimed
student id (a forged folder with a later timestamp wins over the real one; the owner mismatch is only a log
warning) and copies it with ``shutil.copytree``, which follows symlinks, so a student's symlink to a file only the
instructor can read is copied, as the instructor, into the course's ``submitted/`` folder.

:class:`CourseExchangeCollect` replaces it (``c.ExchangeFactory.collect``, set by hub/setup.sh in the instructor's
config). Before choosing the newest submission per student it drops, with a warning that says why, every inbound
folder that

- is a symlink, or is not a folder;
- is not owned by the Unix user of the student id it claims (on the hub, student ids are Unix user names;
  :attr:`CourseInbound.unix_user_of` maps ids to user names when they differ);
- holds anything but plain files and folders owned by that same user: symlinks, FIFOs, sockets, devices, or
  files with more than one hard link (a hard link to someone else's file).

The copy itself never follows a symlink: every folder and file is opened relative to its parent's file
descriptor with ``O_NOFOLLOW`` and checked again with ``fstat`` on the opened descriptor (so swapping a file for a
symlink after the check does not help), into a private snapshot that nbgrader's own copy (ignore/include patterns,
size limits) then copies into ``submitted/``.

Times (issue #23, item 4). nbgrader's collect takes a submission's time from its folder's name and copies the
student's own ``timestamp.txt``: both written by the student, who can rewrite them after the deadline (the late
penalty then never applies). The course's collect takes the time the exchange *received* the submission instead:
the latest inode change time (``st_ctime``) of the folder and of everything in it. The kernel sets ``st_ctime`` on
every write, rename, chmod or ``utime``; no user but root can set it back, so a student can move it later (by
touching their files) but never earlier. The copy re-reads it with ``fstat`` on what it opened, after reading each
file, so a change during the copy counts too. That time chooses the newest submission (and the one before the due
date under ``--before-duedate``), and it is what ``submitted/<student>/<assignment>/timestamp.txt`` holds, in the
course directory where no student writes (nbgrader's autograde reads it for the late penalty). Each collected
submission's receipt (received, claimed, the folder's name and a SHA-256 of what was copied) is appended to
``<course>/collect-receipts.jsonl``. A submission changed after the time recorded for it (its inode times moved on
between the choice and the copy, or since an earlier collect of the same folder) is marked: the later time counts,
and collect warns that it changed after it was received.

List. nbgrader's default ``nbgrader list --inbound`` lists every folder in ``inbound/`` under the student id
its name claims, so the instructor sees a forged folder as that student's submission; and it opens the notebooks
of a folder without a submission secret to hash them, so a FIFO named like a notebook stalls it.
:class:`CourseExchangeList` (``c.ExchangeFactory.list``, instructor) leaves out, with a ``Not listing ...``
warning, every inbound folder that collect would refuse: both ask the same function, :func:`inbound_refusal`. The
check runs before nbgrader reads the folders, so a student who swaps a file of their own accepted folder for a
FIFO at that moment can still stall a listing (not collect, whose copy checks what it opens). Outbound (released)
and cached listings, the students' Assignment List, are nbgrader's.

Both take the mapping from student ids to Unix users from :attr:`CourseInbound.unix_user_of`
(``c.CourseInbound.unix_user_of`` sets it for both; ``c.CourseExchangeCollect.unix_user_of`` for one).

Submit. nbgrader's default `submit` makes the submitted files world-readable (0444, the folder 0777): the
inbound folder cannot be listed, so only the folder's random name keeps other students out, and the name's secret
file (``submission_secret.txt``, which also names the student's feedback) is readable by anyone who learns it.
:class:`CourseExchangeSubmit` (``c.ExchangeFactory.submit`` in the students' config) gives "others" nothing: the
inbound folder is setgid to the instructor's group (nbgrader's `release_assignment` makes it so), every file and
folder of a submission is created in that group, and the modes are nbgrader's without the "other" bits (files
0440, folders 0750, the submission's folder 0770). The instructor reads through the group, the student as owner.
This needs the instructor's group to be theirs alone (a user-private group, as hub/setup.sh creates).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.exchange.default.list import ExchangeList
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import parse_utc
from traitlets import Callable as CallableTrait
from traitlets import default
from traitlets.config import LoggingConfigurable


class Refused(Exception):
    """An inbound submission that is not collected; the message says why."""


def same_name(student_id: str) -> str:
    """The Unix user name of ``student_id`` on the course's hub: the id itself (JupyterHub's user name)."""
    return student_id


def owner_name(uid: int) -> str:
    """The user name of ``uid``, or ``uid <n>`` for a uid with no account."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # O_NONBLOCK: a FIFO does not block


def _check_entry(st: os.stat_result, where: str, uid: int) -> None:
    """Refuse anything but a plain folder or a singly linked plain file owned by ``uid`` (``st`` from lstat/fstat)."""
    if stat.S_ISLNK(st.st_mode):
        raise Refused(f"{where} is a symlink")
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise Refused(f"{where} is not a plain file or folder (mode {stat.filemode(st.st_mode)})")
    if st.st_uid != uid:
        raise Refused(f"{where} is owned by {owner_name(st.st_uid)}, not by the submitting student {owner_name(uid)}")
    if stat.S_ISREG(st.st_mode) and st.st_nlink != 1:
        raise Refused(f"{where} is a hard link ({st.st_nlink} links)")


def check_tree(path: str, uid: int) -> None:
    """Refuse the folder ``path`` unless it and everything in it pass :func:`_check_entry` (lstat, no following)."""
    _check_entry(os.lstat(path), os.path.basename(path), uid)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise Refused(f"{os.path.basename(path)} is not a folder")
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            _check_entry(os.lstat(full), os.path.relpath(full, os.path.dirname(path)), uid)


def snapshot(
    parent_fd: int,
    name: str,
    dest: str,
    uid: int,
    budget: list[int],
    where: str = "",
    changed: list[float] | None = None,
) -> None:
    """Copy folder ``name`` (relative to the open folder ``parent_fd``) to the new folder ``dest``, race-free.

    Every entry is opened with ``O_NOFOLLOW`` relative to its parent's descriptor and checked with ``fstat``;
    ``budget`` is a one-element list of bytes still allowed (the copy is refused when it runs out). ``changed``, a
    one-element list, gets the latest ``st_ctime`` seen, each taken with ``fstat`` after the entry was read.
    """
    where = os.path.join(where, name) if where else name
    changed = changed if changed is not None else [0.0]
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)  # fails (ELOOP/ENOTDIR) on a symlink or a non-folder
    try:
        _check_entry(os.fstat(fd), where, uid)
        os.mkdir(dest, 0o700)
        for entry in os.scandir(fd):
            st = entry.stat(follow_symlinks=False)
            _check_entry(st, os.path.join(where, entry.name), uid)
            if stat.S_ISDIR(st.st_mode):
                snapshot(fd, entry.name, os.path.join(dest, entry.name), uid, budget, where, changed)
            else:
                path = os.path.join(where, entry.name)
                _copy_file(fd, entry.name, os.path.join(dest, entry.name), uid, budget, path, changed)
        changed[0] = max(changed[0], os.fstat(fd).st_ctime)  # after its entries were listed and copied
    finally:
        os.close(fd)


def received_at(path: str) -> float:
    """When the exchange received the folder ``path``: the latest ``st_ctime`` of it and everything in it (lstat,
    no link followed). A student can make it later (any change to their files), never earlier."""
    latest = os.lstat(path).st_ctime
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in dirnames + filenames:
            latest = max(latest, os.lstat(os.path.join(dirpath, name)).st_ctime)
    return latest


def utc(seconds: float) -> datetime:
    """An epoch time as nbgrader compares timestamps (naive UTC, :func:`nbgrader.utils.parse_utc`)."""
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def timestamp_text(when: datetime) -> str:
    """``when`` (naive UTC) as nbgrader writes ``timestamp.txt``: ``2026-12-08 03:00:00.000000 UTC``."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"


def tree_digest(path: str) -> str:
    """SHA-256 over the relative paths and contents of the files under ``path`` (the collect's private copy)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(path)):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            h.update(os.path.relpath(full, path).encode("utf-8", "surrogateescape") + b"\0")
            with open(full, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()


def _copy_file(
    dir_fd: int, name: str, dest: str, uid: int, budget: list[int], where: str, changed: list[float] | None = None
) -> None:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        raise Refused(f"{where} cannot be opened without following links ({e.strerror})") from e
    try:
        st = os.fstat(fd)
        _check_entry(st, where, uid)
        with os.fdopen(os.dup(fd), "rb") as src, open(dest, "xb") as out:
            while chunk := src.read(1 << 20):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise Refused("the submission is larger than CourseDirectory.max_dir_size")
                out.write(chunk)
        if changed is not None:
            changed[0] = max(changed[0], os.fstat(fd).st_ctime)  # after the read: a write during it counts
    finally:
        os.close(fd)


def claimed_student_id(path: str) -> str:
    """The student id an inbound folder's name claims: the part before the first ``+`` (as nbgrader parses it)."""
    return os.path.basename(path.rstrip(os.sep)).split("+", 1)[0]


def uid_of_student(student_id: str, unix_user_of: Callable[[str], str] = same_name) -> int:
    """The uid that must own ``student_id``'s submissions (:class:`Refused` if there is no such Unix user)."""
    user = unix_user_of(student_id)
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise Refused(f"claims student id {student_id!r}, but there is no Unix user {user!r}") from None


def inbound_refusal(path: str, unix_user_of: Callable[[str], str] = same_name) -> str | None:
    """Why the inbound folder ``path`` was not really made by the student its name claims, or None if it was.

    Refused: a symlink; a folder not owned by the Unix user of the claimed id (``unix_user_of``); a folder holding
    anything but plain files and folders of that user (:func:`check_tree`). Collect and list both ask this.
    """
    student_id = claimed_student_id(path)
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise Refused("is a symlink")
        uid = uid_of_student(student_id, unix_user_of)
        if st.st_uid != uid:
            raise Refused(f"claims student id {student_id!r} but is owned by {owner_name(st.st_uid)}")
        check_tree(path, uid)
    except Refused as e:
        return str(e)
    except OSError as e:
        return f"cannot be checked ({e})"
    return None


_WHY = "(a submission in another student's name, or a link to files that are not the student's?)"


class CourseInbound(LoggingConfigurable):
    """What the course's collect and list share: which Unix user must own a student's inbound folders."""

    unix_user_of = CallableTrait(
        help="Maps a student id (the first part of an inbound folder's name) to the Unix user name that must own "
        "the folder. On JupyterHub ids are Unix user names (the default, the identity); set it in "
        "nbgrader_config.py when ids differ, e.g. c.CourseInbound.unix_user_of = lambda i: 's' + i."
    ).tag(config=True)

    @default("unix_user_of")
    def _default_unix_user_of(self) -> Callable[[str], str]:
        return same_name

    def expected_uid(self, student_id: str) -> int:
        """The uid that must own ``student_id``'s submissions (:class:`Refused` if there is no such user)."""
        return uid_of_student(student_id, self.unix_user_of)

    def refusal(self, path: str) -> str | None:
        """Why the inbound folder ``path`` is not taken as its student's (:func:`inbound_refusal`), or None."""
        return inbound_refusal(path, self.unix_user_of)


class CourseExchangeCollect(CourseInbound, ExchangeCollect):
    """nbgrader's default collect, refusing forged, symlinked or foreign-owned inbound submissions, and timing each
    submission by when the exchange received it, not by what the student wrote (module doc)."""

    #: the file in the course directory that gets one JSON line per collected submission
    RECEIPTS = "collect-receipts.jsonl"

    def _path_to_record(self, path: str) -> dict:
        """nbgrader's record of an inbound folder, its ``timestamp`` the exchange's (:func:`received_at`); the
        time the student's folder name claims is kept as ``claimed``."""
        record = super()._path_to_record(path)
        record["claimed"] = record["timestamp"]
        try:
            record["timestamp"] = utc(received_at(path))
        except OSError:
            pass  # refused before it is copied (collect checks every folder first)
        return record

    def _receipts_path(self) -> str:
        return os.path.join(self.coursedir.root, self.RECEIPTS)

    def _earlier_receipts(self, folder: str) -> list[dict]:
        """The receipts an earlier collect recorded for the inbound folder named ``folder``."""
        try:
            with open(self._receipts_path(), encoding="utf-8") as f:
                lines = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError):
            return []
        return [r for r in lines if isinstance(r, dict) and r.get("folder") == folder]

    def init_src(self) -> None:
        """As nbgrader's, but refused folders are dropped before the newest submission per student is chosen."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = []
        for path in sorted(glob.glob(pattern)):
            why = self.refusal(path)
            if why:
                self.log.warning("Not collecting %s: %s %s", path, why, _WHY)
            else:
                records.append(self._path_to_record(path))
        usergroups = groupby(records, lambda item: item["username"])
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        self._chosen = {}
        for v in usergroups.values():
            ordered = self._sort_by_timestamp(v)
            before = [r for r in ordered if self.duedate is not None and r["timestamp"] <= self.duedate]
            self.src_records.append(before[0] if self.before_duedate and before else ordered[0])
            self._chosen[self.src_records[-1]["filename"]] = self.src_records[-1]

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Snapshot ``src`` without following links (refusing what :func:`_check_entry` refuses), then copy the
        snapshot to ``dest`` with nbgrader's copy (its ignore/include patterns and size limits)."""
        folder = os.path.basename(src)
        record = getattr(self, "_chosen", {}).get(folder) or self._path_to_record(src)
        student_id = record["username"]
        work = tempfile.mkdtemp(prefix=".collect-", dir=os.path.dirname(dest))
        changed = [0.0]
        try:
            parent = os.open(os.path.dirname(src), _DIR_FLAGS)
            try:
                snap = os.path.join(work, "s")
                snapshot(
                    parent,
                    folder,
                    snap,
                    self.expected_uid(student_id),
                    [1000 * self.coursedir.max_dir_size],
                    changed=changed,
                )
            finally:
                os.close(parent)
        except (Refused, OSError) as e:
            shutil.rmtree(work, ignore_errors=True)
            self.log.warning("Not collecting %s: %s", src, e)
            return
        try:
            super().do_copy(snap, dest, log)
            self._stamp(src, dest, record, utc(changed[0]), tree_digest(snap))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _stamp(self, src: str, dest: str, record: dict, copied_at: datetime, digest: str) -> None:
        """Write the exchange's time into ``dest``'s ``timestamp.txt``, append the receipt, and warn when the student's
        claimed time differs or the submission changed after the time recorded for it."""
        folder = os.path.basename(src)
        received = max(record["timestamp"], copied_at)
        marks = []
        if copied_at > record["timestamp"]:
            marks.append(f"changed while it was collected (after {timestamp_text(record['timestamp'])})")
        for earlier in self._earlier_receipts(folder):
            if earlier.get("sha256") != digest or parse_utc(earlier["received"]) < received:
                marks.append(f"changed after it was received at {earlier['received']}")
                break
        if marks:
            self.log.warning("%s %s: it counts as received at %s", src, "; ".join(marks), timestamp_text(received))
        claimed = record.get("claimed")
        if claimed is None or abs((claimed - received).total_seconds()) > 120:
            self.log.warning(
                "%s: its name and timestamp.txt claim %s; the exchange received it at %s, which counts",
                src,
                timestamp_text(claimed) if claimed else "nothing",
                timestamp_text(received),
            )
        with open(os.path.join(dest, "timestamp.txt"), "w", encoding="utf-8") as f:
            f.write(timestamp_text(received))
        receipt = {
            "student": record["username"],
            "assignment": self.coursedir.assignment_id,
            "folder": folder,
            "received": timestamp_text(received),
            "claimed": timestamp_text(claimed) if claimed else None,
            "sha256": digest,
            "marked": marks,
        }
        with open(self._receipts_path(), "a", encoding="utf-8") as f:
            f.write(json.dumps(receipt) + "\n")


class CourseExchangeList(CourseInbound, ExchangeList):
    """nbgrader's default list; ``--inbound`` leaves out every folder collect would refuse (module doc)."""

    def init_dest(self) -> None:
        """As nbgrader's, then drop (with a warning) the inbound folders :func:`inbound_refusal` refuses."""
        super().init_dest()
        if not self.inbound:
            return
        kept: list[str] = []
        found: list[str] = self.assignments  # type: ignore[has-type]  # set by nbgrader: its glob of inbound/
        for path in found:
            why = self.refusal(path)
            if why:
                self.log.warning("Not listing %s: %s %s", path, why, _WHY)
            else:
                kept.append(path)
        self.assignments = kept


class CourseExchangeSubmit(ExchangeSubmit):
    """nbgrader's default submit, with the submission readable by the student and the instructor's group only."""

    def _inbound_dest(self, dest: str) -> bool:
        return os.path.dirname(os.path.abspath(dest)) == os.path.abspath(self.inbound_path)

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy into a folder that keeps the inbound folder's group (and setgid) for everything made in it.

        ``shutil.copytree`` would chmod the new folder (dropping its setgid, which the student may not keep on a
        group they are not in) before nbgrader writes ``timestamp.txt`` and ``submission_secret.txt`` into it;
        so the copy goes to a staging folder inside it and its entries are moved up."""
        if not self._inbound_dest(dest):
            super().do_copy(src, dest, log)  # the student's own cache
            return
        os.mkdir(dest, 0o700)  # inherits the inbound folder's group and setgid
        staging = os.path.join(dest, ".submitting")
        super().do_copy(src, staging, log)
        for name in os.listdir(staging):
            os.rename(os.path.join(staging, name), os.path.join(dest, name))
        os.rmdir(staging)

    def set_perms(self, dest: str, fileperms: int, dirperms: int) -> None:
        """nbgrader's modes without the "other" bits."""
        super().set_perms(dest, fileperms & ~0o007, dirperms & ~0o007)

    def copy_files(self) -> None:
        super().copy_files()  # ends with chmod 0777 on the submission's folder ("so the instructor can delete")
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), 0o770)
