"""The whole nbgrader cycle on the course's JupyterHub, in headless Chromium (issue #14, items 2 and 4).

One hub for the module (tests/hub_utils.py: hub/setup.sh and JupyterHub as root, its own accounts, ports, state
and exchange; stopped with SIGINT and removed afterwards). Every step is a click in the page the user has, logged
in through the hub's login form with their Unix password:

1. The instructor opens the Formgrader (JupyterLab's Nbgrader menu) and presses Release for 01_convolution.
2. Two students fetch it in their Assignment List. Student A types the instructor's solution of ``correlate2d``
   into its cell and saves (Ctrl+S). Student B cheats: the visible test cell of ``correlate2d`` is read-only in
   JupyterLab, so B saves the notebook with that cell's source replaced by ``pass`` through B's own Jupyter
   contents API, from B's browser session. Both press Submit.
3. The instructor presses Collect (the course's CourseExchangeCollect, from the instructor's role config), grades
   A with the Autograde button and B with ``cnn-course grade`` (as the instructor's Unix user), and presses
   Generate Feedback and Release Feedback. The Autograde button went through the course's sandboxed grader
   (nbgrader_config.py's SandboxedExecute): a bubblewrap process ran under the instructor's server while it
   graded, and the engine's record of A's notebook exists; B's forged test cell scored 0.
4. Each student presses Fetch Feedback and opens the page: A's score is the points of ``correlate2d``'s tests,
   B's is 0 with the engine's message; each page is the student's own. The instructor's gradebook holds the
   same scores, the expected ones taken from the gradebook's max scores and the source notebook's points.
5. Hand grading stays hand grading (issue #22, item 4): before Generate the instructor's notebook gets a written
   answer, a code answer worth points and a task (the instructor's own edit of the course copy). A leaves them
   untouched, B answers both; after grading (A by the button, B by ``cnn-course grade``) they are where plain
   nbgrader puts them: A's answers 0 ("No response"), every other one "needs manual grade", none an automatic 0.
   The instructor scores B's three in the Formgrader's manual grading page; B's total in the gradebook, the
   Formgrader's list and ``cnn-course table`` then include them, and A's task still waits.

Screenshots go to a temporary folder (printed); ``UPDATE_SCREENSHOTS=1`` also writes them to docs/img/hub-*.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from browser_utils import CHROMIUM_ARGS, LAB_SETTINGS, chromium_executable, save_screenshot, solution_source
from conftest import ROOT

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.slow, pytest.mark.nbgrader, pytest.mark.sandbox]

pytest.importorskip("requests")  # a JupyterHub dependency

from hub_utils import (  # noqa: E402
    COURSE_ID,
    START_TIMEOUT,
    Hub,
    as_role,
    as_user,
    descendants,
    home,
    running_hub,
    server_pids,
)

ASSIGNMENT = "01_convolution"
NOTEBOOK = "convolution"
EXERCISE = "correlate2d"  # A solves it
FORGED_TEST = "correlate2d__basic"  # B replaces this visible test cell's source with `pass`
VIEWPORT = {"width": 1000, "height": 700}
FORMGRADER_VIEWPORT = {"width": 1200, "height": 700}  # its tables are wider
DOCS_IMG = ROOT / "docs" / "img"
UI_TIMEOUT_MS = 60_000
GRADE_TIMEOUT_MS = 300_000  # the Autograde button: a sandboxed kernel and the engine's calls (2 busy cores)
#: the cells graded by hand that the instructor adds to the course copy's notebook before Generate:
#: grade_id -> (points, kind, the instructor's cell source, B's answer); kind written/code/task
HAND = {
    "explain_flip": (
        2,
        "written",
        "A convolution flips its kernel; `correlate2d` slides it unflipped, as Keras' layers do, and a learned "
        "kernel can be any array, so the flip does not matter.",
        "Keras does not flip: learned kernels absorb the flip.",
    ),
    "show_flip": (
        1,
        "code",
        "### BEGIN SOLUTION\nimport numpy as np\n\nprint(np.flip(np.arange(4).reshape(2, 2)))\n### END SOLUTION",
        "import numpy as np\nprint(np.arange(4).reshape(2, 2)[::-1, ::-1])",
    ),
    "task_sketch": (1, "task", "**Task.** Sketch on paper how a 3x3 kernel slides over a 5x5 image.", None),
}
#: the scores the instructor gives B's answers in the Formgrader
GIVEN = {"explain_flip": 1.5, "show_flip": 1.0, "task_sketch": 1.0}


@dataclass
class Cycle:
    hub: Hub
    shots: Path
    browser: object
    pages: dict[str, object] = field(default_factory=dict)  # user -> their page ("formgrader": the instructor's)
    scores: dict[str, str] = field(default_factory=dict)  # student -> score as the Formgrader shows it
    done: list[str] = field(default_factory=list)  # the steps that passed, in order

    @property
    def a(self) -> str:
        return self.hub.student(1)

    @property
    def b(self) -> str:
        return self.hub.student(2)

    def needs(self, step: str) -> None:
        if step not in self.done:
            pytest.fail(f"an earlier step ({step}) failed")

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step; on failure keep a screenshot and the HTML of every page (and frame) in ``shots``."""
        try:
            yield
        except BaseException:
            for user, page in self.pages.items():
                try:
                    page.screenshot(path=str(self.shots / f"failed-{name}-{user}.png"))
                    for i, frame in enumerate(page.frames):
                        (self.shots / f"failed-{name}-{user}-{i}.html").write_text(frame.content())
                except Exception as exc:  # noqa: BLE001  (a closed page: the failure itself is what matters)
                    print(f"no screenshot of {user}'s page: {exc}")
            print(f"failed step {name}: screenshots and pages in {self.shots}")
            raise
        self.done.append(name)

    def shot(self, who: str, name: str) -> Path:
        return save_screenshot(self.pages[who], f"hub-{name}", self.shots, readme=True, docs_dir=DOCS_IMG)


def _lab_settings(user: str) -> None:
    """The quiet JupyterLab settings of tests/browser_utils.py (no news toasts; every cell in the DOM), in the
    user's own settings folder, owned by them (as if they had set them)."""
    entry = pwd.getpwnam(user)
    for rel, value in LAB_SETTINGS.items():
        path = Path(entry.pw_dir) / ".jupyter" / "lab" / "user-settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    for d, _, files in os.walk(Path(entry.pw_dir) / ".jupyter"):
        os.chown(d, entry.pw_uid, entry.pw_gid)
        for f in files:
            os.chown(Path(d) / f, entry.pw_uid, entry.pw_gid)


def _log_in(browser, hub: Hub, user: str):
    """A fresh browser context (its own cookies) on the hub's login page; the form filled and sent. The hub then
    starts the user's server; :func:`_wait_for_lab` waits for it."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.passwords[user])
    page.locator("#login_submit").click()
    return page


def _wait_for_lab(page, user: str) -> None:
    page.wait_for_url(re.compile(rf"/user/{re.escape(user)}/lab"), timeout=START_TIMEOUT * 1000)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).wait_for(timeout=START_TIMEOUT * 1000)


def _nbgrader_menu(page, command: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
    page.locator(f".lm-Menu-item[data-command='nbgrader:{command}']").click()


def _press(frame, row, button: str, timeout: float = UI_TIMEOUT_MS) -> str:
    """Click the Formgrader's ``button`` cell (``td.release``, ``td.collect``, ...) in ``row``; wait for its success
    dialog, return the dialog's text (the nbgrader log) and close it. An error dialog fails the test."""
    from playwright.sync_api import expect

    row.locator(f"td.{button} a").click()
    dialog = frame.locator("#success-modal, #error-modal")
    expect(dialog).to_be_visible(timeout=timeout)
    text = dialog.inner_text()
    assert dialog.get_attribute("id") == "success-modal", f"{button}: the Formgrader reports an error:\n{text}"
    _close(frame, dialog)
    return text


def _close(frame, dialog) -> None:
    """Press the dialog's OK and wait until it and its backdrop are gone."""
    from playwright.sync_api import expect

    # Bootstrap's fade-in must be over: an OK pressed while the dialog is still appearing is undone by its
    # show() finishing (the dialog stays, unclosable).
    expect(dialog).to_have_class(re.compile(r"\bin\b"))
    expect(frame.locator(".modal-backdrop")).to_have_class(re.compile(r"\bin\b"))
    dialog.locator(".modal-footer button").click()
    expect(frame.locator(".modal, .modal-backdrop")).to_have_count(0)


def _assignment_row(frame):
    return frame.locator("tr", has=frame.locator("td.name", has_text=ASSIGNMENT))


def _assignment_list(page, section: str):
    """The row of ASSIGNMENT in a section of the student's Assignment List (released, fetched, submitted)."""
    return page.locator(f"#{section}_assignments_list .list_item", has_text=ASSIGNMENT).first


def _cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def _js_number(x: float) -> str:
    """A score as the formgrader prints it (JavaScript's ``String(roundToPrecision(x, 2))``)."""
    x = round(x, 2)
    return str(int(x)) if x == int(x) else repr(x)


def _add_hand_graded_cells(course: Path, owner: str) -> None:
    """The instructor's edit of the course copy before Generate: :data:`HAND`'s cells at the end of the notebook,
    with nbgrader's metadata as the Create Assignment toolbar writes it, the file still the instructor's."""
    path = course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for grade_id, (points, kind, source, _answer) in HAND.items():
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        flags = {"grade": kind != "task", "solution": kind != "task", "locked": kind == "task", "task": kind == "task"}
        cell.metadata["nbgrader"] = {**flags, "grade_id": grade_id, "points": points, "schema_version": 3}
        nb.cells.append(cell)
    nbformat.write(nb, path)
    entry = pwd.getpwnam(owner)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="module")
def cycle() -> Iterator[Cycle]:
    from playwright.sync_api import sync_playwright

    # kept after the run (pytest's own temp folders are pruned by the next sessions, also other users')
    shots = Path(tempfile.mkdtemp(prefix="hub-screenshots-"))
    print(f"screenshots: {shots}")
    with running_hub("cnnc") as hub, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        try:
            c = Cycle(hub, shots, browser)
            for user in (hub.instructor, c.a, c.b):
                _lab_settings(user)
            # The three log in one after the other; their servers start at the same time.
            for user in (hub.instructor, c.a, c.b):
                c.pages[user] = _log_in(browser, hub, user)
            yield c
        finally:
            browser.close()


def test_the_instructor_generates_and_releases_from_the_formgrader(cycle: Cycle) -> None:
    from playwright.sync_api import expect

    with cycle.step("release"):
        teacher = cycle.hub.instructor
        _wait_for_lab(cycle.pages[teacher], teacher)
        # The Formgrader in its own browser tab: JupyterHub (4.1+) forbids framing a user's server
        # (frame-ancestors 'none'), so the panel the Nbgrader menu opens in JupyterLab stays blank.
        frame = cycle.pages[teacher].context.new_page()
        frame.set_default_timeout(UI_TIMEOUT_MS)
        frame.set_viewport_size(FORMGRADER_VIEWPORT)
        cycle.pages["formgrader"] = frame
        response = frame.goto(f"{cycle.hub.url}/user/{teacher}/formgrader")
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), response.headers
        row = _assignment_row(frame)
        expect(row.locator("td.status")).to_have_text("draft", timeout=UI_TIMEOUT_MS)
        _add_hand_graded_cells(cycle.hub.course, teacher)
        # Generate (the student version and the gradebook's record of the assignment), then Release.
        log = _press(frame, row, "assign", timeout=GRADE_TIMEOUT_MS)
        assert f"Updating/creating assignment '{ASSIGNMENT}'" in log, log
        log = _press(frame, row, "release")
        assert f"Released as: {COURSE_ID} {ASSIGNMENT}" in log, log
        expect(row.locator("td.status")).to_have_text("released")
        outbound = cycle.hub.exchange / COURSE_ID / "outbound" / ASSIGNMENT
        assert outbound.stat().st_uid == pwd.getpwnam(cycle.hub.instructor).pw_uid
        cycle.shot("formgrader", "formgrader-released")


def _fetch(page, user: str) -> None:
    from playwright.sync_api import expect

    _wait_for_lab(page, user)
    _nbgrader_menu(page, "open-assignment-list")
    _assignment_list(page, "released").get_by_role("button", name="Fetch").click()
    expect(_assignment_list(page, "fetched").get_by_role("button", name="Submit")).to_be_visible()


def _submit(page) -> None:
    from playwright.sync_api import expect

    _nbgrader_menu(page, "open-assignment-list")
    page.locator("#refresh_assignments_list").click()
    _assignment_list(page, "fetched").get_by_role("button", name="Submit").click()
    expect(_assignment_list(page, "submitted").get_by_role("button", name="Fetch Feedback")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )


def test_students_fetch_work_and_submit_from_the_assignment_list(cycle: Cycle) -> None:
    from playwright.sync_api import expect

    cycle.needs("release")
    with cycle.step("submit"):
        a, b = cycle.a, cycle.b
        pa, pb = cycle.pages[a], cycle.pages[b]
        _fetch(pa, a)
        cycle.shot(a, "student-fetched")
        _fetch(pb, b)
        fetched = {u: home(u) / ASSIGNMENT / f"{NOTEBOOK}.ipynb" for u in (a, b)}
        for u, path in fetched.items():
            assert path.stat().st_uid == pwd.getpwnam(u).pw_uid

        # A opens the notebook and types the instructor's solution into the exercise's cell, then saves.
        answer = solution_source(_cells(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")[EXERCISE].source)
        pa.goto(f"{cycle.hub.url}/user/{a}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
        cell = (
            pa.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
            .filter(has=pa.locator(".jp-InputArea-editor", has_text=f"def {EXERCISE}("))
            .first
        )
        editor = cell.locator(".cm-content")
        expect(editor).to_contain_text("raise NotImplementedError()", timeout=UI_TIMEOUT_MS)
        editor.click()
        pa.keyboard.press("Control+A")
        pa.keyboard.insert_text(answer)
        pa.keyboard.press("Control+S")
        end = time.monotonic() + 60
        while _cells(fetched[a])[EXERCISE].source.strip() != answer.strip():
            assert time.monotonic() < end, "A's typed solution was not saved to A's notebook"
            time.sleep(0.5)

        # B cheats: the test cell is read-only in JupyterLab, so B saves the notebook through B's own contents API
        # (B's login, in B's browser) with that cell's source replaced by `pass`; in the same save, B answers the
        # written question and the code question graded by hand (A leaves them as released).
        url = f"/user/{b}/api/contents/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
        sources = {FORGED_TEST: "pass", **{g: answer for g, (_p, _k, _s, answer) in HAND.items() if answer}}
        status = pb.evaluate(
            """async ([url, sources]) => {
            const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "");
            const headers = {"X-XSRFToken": xsrf, "Content-Type": "application/json"};
            const nb = (await (await fetch(url, {headers})).json()).content;
            for (const cell of nb.cells) {
                const gradeId = ((cell.metadata || {}).nbgrader || {}).grade_id;
                if (gradeId in sources) cell.source = sources[gradeId];
            }
            const r = await fetch(url, {method: "PUT", headers, body: JSON.stringify({type: "notebook", content: nb})});
            return r.status;
        }""",
            [url, sources],
        )
        assert status == 200, f"B's save through the contents API: HTTP {status}"
        assert {g: _cells(fetched[b])[g].source for g in sources} == sources

        _submit(pa)
        cycle.shot(a, "student-submitted")
        _submit(pb)
        inbound = sorted(p.name for p in (cycle.hub.exchange / COURSE_ID / "inbound").iterdir())
        assert [n.split("+")[0] for n in inbound] == sorted([a, b]), inbound


def _sandbox_processes(server_pid: int) -> dict[int, str]:
    return {p: cmd for p, cmd in descendants(server_pid).items() if cmd.split(" ", 1)[0].endswith("bwrap")}


def test_the_instructor_collects_grades_and_releases_feedback(cycle: Cycle) -> None:
    from playwright.sync_api import expect

    cycle.needs("submit")
    with cycle.step("grade"):
        hub, a, b = cycle.hub, cycle.a, cycle.b
        frame = page = cycle.pages["formgrader"]
        frame.get_by_role("link", name="Manage Assignments").click()
        row = _assignment_row(frame)
        log = _press(frame, row, "collect")
        for s in (a, b):
            assert f"Collecting submission: {s} {ASSIGNMENT}" in log, log
        assert {p.name for p in (hub.course / "submitted").iterdir()} == {a, b}
        expect(row.locator("td.num-submissions")).to_have_text("2")

        # Manage submissions: A with the Autograde button, watched from outside: the grading runs the student's
        # kernel in bubblewrap, a child of the instructor's server.
        row.locator("td.num-submissions a").click()
        rows = frame.locator("tbody tr").filter(has=frame.locator("td.student-id"))
        expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
        row_a = rows.filter(has=frame.locator("td.student-id", has_text=a))
        (server,) = server_pids(hub.instructor)
        started = time.time()
        row_a.locator("td.autograde a").click()
        seen: dict[int, str] = {}
        dialog = frame.locator("#success-modal, #error-modal")
        end = time.monotonic() + GRADE_TIMEOUT_MS / 1000
        while dialog.count() == 0:
            assert time.monotonic() < end, "the Autograde button did not finish"
            seen.update(_sandbox_processes(server))
            page.wait_for_timeout(200)
        text = dialog.inner_text()
        assert dialog.get_attribute("id") == "success-modal", f"Autograde: the Formgrader reports an error:\n{text}"
        _close(frame, dialog)
        assert seen, "no bubblewrap process ran under the instructor's server while the Autograde button graded"
        record = hub.course / "autograded" / a / ASSIGNMENT / f"{NOTEBOOK}.grading.json"
        assert record.exists() and record.stat().st_mtime >= started - 1, "no new engine record for A's notebook"
        assert record.stat().st_uid == pwd.getpwnam(hub.instructor).pw_uid

        # B with the course's command line, as the instructor's Unix user, in the course directory.
        r = as_role(hub, hub.instructor, "cnn-course", "grade", ASSIGNMENT, "--student", b, cwd=hub.course, timeout=600)
        assert r.returncode == 0, f"cnn-course grade failed:\n{r.stdout}\n{r.stderr}"
        assert "1 graded, 0 failed" in r.stdout, r.stdout

        frame.get_by_role("link", name="Manage Assignments").click()
        _press(frame, row, "generate-feedback", timeout=GRADE_TIMEOUT_MS)
        log = _press(frame, row, "release-feedback")
        assert a in log and b in log, log
        row.locator("td.num-submissions a").click()
        expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
        cycle.shot("formgrader", "formgrader-submissions")
        cycle.scores = {
            r.locator("td.student-id").inner_text().strip(): r.locator("td.score").inner_text().strip()
            for r in rows.all()
        }


def _expected(cycle: Cycle) -> tuple[dict[str, float], dict[str, float]]:
    """(max score per graded cell, A's expected score per graded cell) from the gradebook and the source notebook;
    the cells graded by hand (:data:`HAND`) are among them, and score 0 until a grader scores them."""
    from nbgrader.api import Gradebook

    points = {
        gid: float(c.metadata["nbgrader"]["points"])
        for gid, c in _cells(cycle.hub.course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").items()
        if c.metadata["nbgrader"].get("grade") or c.metadata["nbgrader"].get("task")
    }
    with Gradebook(f"sqlite:///{cycle.hub.course / 'gradebook.db'}") as gb:
        nb = gb.find_notebook(NOTEBOOK, ASSIGNMENT)
        maxima = {g.name: g.max_score for g in [*nb.grade_cells, *nb.task_cells]}
    assert maxima == points, "the gradebook's max scores are not the source notebook's points"
    assert set(HAND) <= set(maxima)
    solved = {gid for gid in maxima if gid.startswith(f"{EXERCISE}__")}
    assert solved and FORGED_TEST in solved
    return maxima, {gid: (m if gid in solved else 0.0) for gid, m in maxima.items()}


def _hand_state(cycle: Cycle, student: str) -> dict[str, tuple]:
    """{grade_id: (auto score, manual score, needs manual grade)} of the student's cells graded by hand."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{cycle.hub.course / 'gradebook.db'}") as gb:
        return {
            g: (grade.auto_score, grade.manual_score, grade.needs_manual_grade)
            for g in HAND
            for grade in [gb.find_grade(g, NOTEBOOK, ASSIGNMENT, student)]
        }


def test_the_gradebook_holds_the_engines_scores(cycle: Cycle) -> None:
    from nbgrader.api import Gradebook

    from grader_utils.grading.records import NotebookRecord, Status

    cycle.needs("grade")
    with cycle.step("gradebook"):
        a, b = cycle.a, cycle.b
        maxima, expected_a = _expected(cycle)
        with Gradebook(f"sqlite:///{cycle.hub.course / 'gradebook.db'}") as gb:
            got = {s: {gid: gb.find_grade(gid, NOTEBOOK, ASSIGNMENT, s).score for gid in maxima} for s in (a, b)}
            totals = {s: gb.find_submission(ASSIGNMENT, s).score for s in (a, b)}
        assert got[a] == expected_a
        assert got[b] == dict.fromkeys(maxima, 0.0) and totals[b] == 0
        assert totals[a] == sum(expected_a.values()) > 0
        # The engine's records say the same, for the test cells alone; B's forged test cell was graded from the
        # instructor's test, not `pass`.
        records = {
            s: NotebookRecord.read(cycle.hub.course / "autograded" / s / ASSIGNMENT / f"{NOTEBOOK}.grading.json")
            for s in (a, b)
        }
        for s in (a, b):
            assert {t.grade_id: t.score for t in records[s].tests} == {g: v for g, v in got[s].items() if g not in HAND}
        # Hand grading stays hand grading: as plain nbgrader leaves it, whichever way the submission was graded.
        # A's untouched answers: 0, "No response"; A's task, and every answer of B's, wait for the grader.
        assert _hand_state(cycle, a) == {
            "explain_flip": (0.0, None, False),
            "show_flip": (0.0, None, False),
            "task_sketch": (None, None, True),
        }
        assert _hand_state(cycle, b) == dict.fromkeys(HAND, (None, None, True))
        shown = _cells(cycle.hub.course / "autograded" / b / ASSIGNMENT / f"{NOTEBOOK}.ipynb")["show_flip"]
        assert "[[3 2]" in "".join(o.get("text", "") for o in shown.outputs), shown.outputs  # B's answer ran
        forged = next(t for t in records[b].tests if t.grade_id == FORGED_TEST)
        assert forged.status == Status.WRONG and forged.score == 0, forged
        autograded = _cells(cycle.hub.course / "autograded" / b / ASSIGNMENT / f"{NOTEBOOK}.ipynb")[FORGED_TEST]
        assert autograded.source != "pass" and f"check_{EXERCISE}" in autograded.source
        # The Formgrader's manage-submissions page showed the gradebook's totals.
        total = _js_number(sum(maxima.values()))
        assert cycle.scores == {a: f"{_js_number(totals[a])} / {total}", b: f"0 / {total}"}


def _fetch_feedback(cycle: Cycle, user: str) -> tuple[Path, str]:
    """The student presses Fetch Feedback, follows "(view feedback)" and opens the page; its path and text."""
    from playwright.sync_api import expect

    page = cycle.pages[user]
    _nbgrader_menu(page, "open-assignment-list")
    page.locator("#refresh_assignments_list").click()
    submitted = _assignment_list(page, "submitted")
    expect(submitted).to_contain_text("feedback available to fetch", timeout=UI_TIMEOUT_MS)
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = _assignment_list(page, "submitted").get_by_text("(view feedback)")
    expect(view).to_be_visible(timeout=UI_TIMEOUT_MS)
    if user == cycle.a:
        cycle.shot(user, "student-feedback-fetched")
    view.click()
    (html,) = (home(user) / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html")
    assert html.stat().st_uid == pwd.getpwnam(user).pw_uid
    rel = html.relative_to(home(user)).as_posix()
    expect(page.locator(".jp-DirListing-item", has_text=html.name)).to_be_visible()  # the file browser is there
    page.goto(f"{cycle.hub.url}/user/{user}/files/{rel}")
    text = page.locator("body").inner_text()
    return html, text


def _page_score(text: str) -> tuple[float, float]:
    """The notebook's score at the top of a feedback page ("convolution (Score: 3.0 / 7.0)")."""
    m = re.search(r"Score: ([\d.]+) / ([\d.]+)", text)
    assert m, f"no score on the feedback page:\n{text[:1000]}"
    return float(m[1]), float(m[2])


def test_each_student_fetches_and_opens_only_their_own_feedback(cycle: Cycle) -> None:
    from grader_utils.grading.records import NotebookRecord

    cycle.needs("gradebook")
    with cycle.step("feedback"):
        a, b = cycle.a, cycle.b
        maxima, expected_a = _expected(cycle)
        total = sum(maxima.values())
        html_a, text_a = _fetch_feedback(cycle, a)
        cycle.shot(a, "student-feedback")
        html_b, text_b = _fetch_feedback(cycle, b)
        cycle.pages[b].locator(f"a[href='#{FORGED_TEST}']").click()  # the contents' link to the forged test cell
        cycle.shot(b, "student-feedback-zero")
        assert _page_score(text_a) == (sum(expected_a.values()), total), text_a[:1000]
        assert _page_score(text_b) == (0.0, total), text_b[:1000]
        # B's page names what is wrong: the engine's message for the exercise B left unwritten.
        record_b = NotebookRecord.read(cycle.hub.course / "autograded" / b / ASSIGNMENT / f"{NOTEBOOK}.grading.json")
        reason = next(t.reason for t in record_b.tests if t.grade_id == FORGED_TEST)
        first_line = reason.strip().splitlines()[0]
        assert first_line and first_line in text_b, (first_line, text_b[:3000])
        # Each fetched the page the instructor generated for them, and nothing of the other.
        for s, html in ((a, html_a), (b, html_b)):
            generated = cycle.hub.course / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html"
            assert html.read_bytes() == generated.read_bytes()
        assert html_a.read_bytes() != html_b.read_bytes()
        assert a not in text_b and b not in text_a
        source = _cells(cycle.hub.course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")[EXERCISE].source
        solution = source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        answer_line = max(solution.splitlines(), key=len)  # a line of A's answer, not in the student version
        assert answer_line.strip() in text_a and answer_line.strip() not in text_b, answer_line
        for s, other in ((a, html_b), (b, html_a)):
            denied = as_user(s, "cat", str(other))
            assert denied.returncode != 0 and "Permission denied" in denied.stderr
        assert [p.name for p in (home(b) / ASSIGNMENT / "feedback").glob("*/*.html")] == [f"{NOTEBOOK}.html"]


def test_the_instructor_grades_the_answers_by_hand_in_the_formgrader(cycle: Cycle) -> None:
    """In the Formgrader's Manual Grading page the instructor types a score for each of B's answers graded by hand
    (B's submission was graded by ``cnn-course grade``); the gradebook, the Formgrader's list and ``cnn-course
    table`` then count them, and A's task still waits for its grader."""
    from nbgrader.api import Gradebook
    from playwright.sync_api import expect

    from browser_utils import save_screenshot
    from grader_utils.instructor.table import PENDING_MARK

    cycle.needs("gradebook")
    with cycle.step("manual"):
        hub, a, b = cycle.hub, cycle.a, cycle.b
        maxima, expected_a = _expected(cycle)
        frame = cycle.pages["formgrader"]
        frame.goto(f"{hub.url}/user/{hub.instructor}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
        rows = frame.locator("table tbody tr").filter(has=frame.locator("td.score"))
        expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
        frame.get_by_role("button", name="Show All Names").click()
        row = {s: rows.filter(has=frame.locator("a.name-shown", has_text=s)) for s in (a, b)}
        for s in (a, b):  # both wait for a grader: A's task, B's three answers
            expect(row[s].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(1)
        row[b].locator("a.name-shown").click()
        for grade_id, score in GIVEN.items():
            box = frame.locator(f"input.score#{grade_id}")
            # the page loads the grades after it shows: once loaded, a box that waits for its grader is marked
            # (filled earlier, the loaded empty manual score would overwrite what was typed)
            expect(box).to_have_class(re.compile(r"\bneeds_manual_grade\b"), timeout=UI_TIMEOUT_MS)
            with frame.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as r:
                box.fill(f"{score:g}")
                box.press("Tab")  # nbgrader saves a score when its box loses focus
            assert r.value.ok, f"saving {grade_id}: HTTP {r.value.status}"
        save_screenshot(frame, "hub-formgrader-manual-grade", cycle.shots)
        with Gradebook(f"sqlite:///{hub.course / 'gradebook.db'}") as gb:
            total_b = gb.find_submission(ASSIGNMENT, b).score
            total_a = gb.find_submission(ASSIGNMENT, a).score
        assert _hand_state(cycle, b) == {g: (None, GIVEN[g], False) for g in HAND}
        assert total_b == sum(GIVEN.values())  # B's tests: 0 (the forgery and nothing else answered)
        assert total_a == sum(expected_a.values())
        assert _hand_state(cycle, a)["task_sketch"] == (None, None, True)
        frame.goto(f"{hub.url}/user/{hub.instructor}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
        expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)
        frame.get_by_role("button", name="Show All Names").click()
        total = _js_number(sum(maxima.values()))
        expect(row[b].locator("td.score")).to_have_text(f"{_js_number(total_b)} / {total}")
        expect(row[b].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(0)
        expect(row[a].locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(1)
        # cnn-course table, as the instructor: B's total with the manual scores, A's marked "needs manual grading"
        r = as_role(hub, hub.instructor, "cnn-course", "table", ASSIGNMENT, cwd=hub.course, timeout=300)
        assert r.returncode == 0, f"cnn-course table failed:\n{r.stdout}\n{r.stderr}"
        rows_out = [line.split("|") for line in r.stdout.splitlines() if "|" in line]
        lines = {cells[0].strip(): cells[-1].strip() for cells in rows_out}
        assert lines[b] == f"{total_b:g}/{sum(maxima.values()):g}", r.stdout
        assert lines[a] == f"{total_a:g}/{sum(maxima.values()):g}{PENDING_MARK}", r.stdout
