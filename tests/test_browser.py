"""The course in a real browser: headless Chromium (Debian's) driven by Playwright against a JupyterLab
server that each test starts itself, with nbgrader's real extensions.

* Student: opens a release notebook, presses Validate (every exercise fails), writes one exercise (the
  instructor's solution from source/, typed into the cell's editor), runs all cells, sees the visible test
  print PASSED, presses Validate again and sees that exercise gone from nbgrader's failures.
* Instructor: the formgrader of the autograded course (the session's ``graded_course``) lists the
  assignments and the demo class's scores as the gradebook has them; a feedback page opens.

Screenshots go to a temporary folder (printed); ``UPDATE_SCREENSHOTS=1`` (``make screenshots``) also writes
them to docs/screenshots/ for the README.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from browser_utils import CHROMIUM_ARGS, VIEWPORT, chromium_executable, lab_server, save_screenshot, solution_source
from conftest import ROOT, assignments

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = "01_convolution"
NOTEBOOK = "convolution"
EXERCISE = "dense_param_count"  # a small exercise of the first assignment
NEXT_EXERCISE = "conv2d_param_count"  # the next one, left unanswered

KERNEL_TIMEOUT_MS = 180_000  # start a kernel, import TensorFlow, run a notebook (2 slow cores)
UI_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots: {path}")
    return path


def cell_source(notebook: Path, grade_id: str) -> str:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise AssertionError(f"no cell {grade_id} in {notebook}")


def code_cell(page, text: str):
    """The notebook's code cell whose editor contains ``text``."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)
    )
    return cells.first


def editor_text(cell) -> str:
    return "\n".join(line.rstrip() for line in cell.locator(".cm-line").all_inner_texts())


def validate(page) -> tuple[str, str]:
    """Press nbgrader's Validate button; return the result dialog's class and text, and close it."""
    from playwright.sync_api import expect

    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    expect(button).to_be_visible(timeout=UI_TIMEOUT_MS)
    button.locator("jp-button, button").first.click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=KERNEL_TIMEOUT_MS)
    return message.get_attribute("class") or "", message.inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=UI_TIMEOUT_MS)


def test_student_solves_an_exercise_and_validates(browser, tmp_path: Path, shots: Path) -> None:
    from playwright.sync_api import expect

    # The student's folder: the course config and the committed release notebook (nothing shared with
    # other tests is touched).
    course = tmp_path / "course"
    rel = Path("release") / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    (course / rel).parent.mkdir(parents=True)
    shutil.copy(ROOT / rel, course / rel)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    answer = solution_source(cell_source(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", EXERCISE))
    check_call = f"check_{EXERCISE}({EXERCISE}"
    next_check_call = f"check_{NEXT_EXERCISE}({NEXT_EXERCISE}"

    with lab_server(course, tmp_path / "jupyter") as server:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(server.page_url(f"lab/tree/{rel.as_posix()}"))
        solution_cell = code_cell(page, f"def {EXERCISE}(")
        expect(solution_cell).to_be_visible(timeout=UI_TIMEOUT_MS)
        assert "raise NotImplementedError()" in editor_text(solution_cell)

        # 1. Untouched: Validate lists the exercise's visible test among the failures.
        kind, text = validate(page)
        save_screenshot(page, "student-validate-untouched", shots)
        assert "validation-failed" in kind, f"untouched notebook did not fail validation:\n{text}"
        assert check_call in text and next_check_call in text, text
        assert "NotImplementedError" in text, text
        close_dialog(page)

        # 2. The student writes the function (typed into CodeMirror: select all, insert the text) ...
        editor = solution_cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answer)
        assert editor_text(solution_cell) == "\n".join(line.rstrip() for line in answer.splitlines())

        # ... runs all cells (Run menu): the visible test passes; Run All stops at the next exercise's test.
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        check_output = code_cell(page, check_call).locator(".jp-OutputArea")
        expect(check_output).to_contain_text(re.compile(r"PASSED|Error"), timeout=KERNEL_TIMEOUT_MS)  # ran
        expect(check_output).to_contain_text(f"PASSED {EXERCISE}", timeout=5_000)
        next_output = code_cell(page, next_check_call).locator(".jp-OutputArea")
        expect(next_output).to_contain_text("NotImplementedError", timeout=KERNEL_TIMEOUT_MS)
        assert "Error" not in check_output.inner_text()
        solution_cell.evaluate("cell => cell.scrollIntoView({block: 'start'})")
        save_screenshot(page, "student-notebook-passing-check", shots, readme=True)

        # 3. Validate again: still failing (other exercises are unanswered), but not this exercise.
        kind, text = validate(page)
        save_screenshot(page, "student-validate", shots, readme=True)
        assert "validation-failed" in kind, text
        assert next_check_call in text, text
        assert check_call not in text, f"{EXERCISE} still fails validation:\n{text}"
        close_dialog(page)
        page.close()

    saved = nbformat.read(course / rel, as_version=4)  # Validate saved the notebook first
    assert any(c.source.strip() == answer.strip() for c in saved.cells)


def _js_number(x: float) -> str:
    """A score as the formgrader prints it (JavaScript's ``String(roundToPrecision(x, 2))``)."""
    x = round(x, 2)
    return str(int(x)) if x == int(x) else repr(x)


def _display_names(course: Path) -> dict[str, str]:
    """{student id: the name the formgrader's submission list shows} read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            st.id: (
                f"{st.last_name}, {st.first_name}" if st.last_name is not None and st.first_name is not None else st.id
            )
            for st in gb.students
        }


def _scores_by_id(rows, id_cell: str) -> dict[str, str]:
    return {
        row.locator(id_cell).inner_text().strip(): row.locator("td.score").inner_text().strip() for row in rows.all()
    }


def test_instructor_sees_assignments_and_grades(
    browser, graded_course: Path, scores: dict, tmp_path: Path, shots: Path
) -> None:
    from playwright.sync_api import expect

    names = assignments()
    table = scores[ASSIGNMENT]
    nb_name = sorted(p.stem for p in (graded_course / "source" / ASSIGNMENT).glob("*.ipynb"))[0]

    def total(student: str, table: dict) -> float:
        return sum(table["students"].get(student, {}).values())

    with lab_server(graded_course, tmp_path / "jupyter") as server:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(server.page_url("lab"))
        # JupyterLab's Nbgrader menu opens the formgrader in a tab; the left sidebar is closed to give it room.
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
        page.locator(".lm-Menu-item[data-command='nbgrader:open-formgrader']").click()
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
        frame = page.frame_locator(".jp-MainAreaWidget iframe").first

        # Manage Assignments: every assignment, with as many submissions as there are in submitted/.
        rows = frame.locator("table tbody tr").filter(has=frame.locator("td.num-submissions"))
        expect(rows).to_have_count(len(names), timeout=UI_TIMEOUT_MS)
        shown = {
            row.locator("td.name").inner_text().strip(): row.locator("td.num-submissions").inner_text().strip()
            for row in rows.all()
        }
        assert shown == {a: str(len(list(graded_course.glob(f"submitted/*/{a}")))) for a in names}
        save_screenshot(page, "formgrader-assignments", shots)

        # Manage Students: each student's total over all assignments, as the gradebook has it.
        frame.get_by_role("link", name="Manage Students").click()
        students = sorted({s for t in scores.values() for s in t["students"]})
        rows = frame.locator("table tbody tr").filter(has=frame.locator("td.id"))
        expect(rows).to_have_count(len(students), timeout=UI_TIMEOUT_MS)
        max_total = sum(sum(t["max"].values()) for t in scores.values())
        expected = {
            s: f"{_js_number(sum(total(s, t) for t in scores.values()))} / {_js_number(max_total)}" for s in students
        }
        assert _scores_by_id(rows, "td.id") == expected
        save_screenshot(page, "formgrader-students", shots, readme=True)

        # Manual Grading -> assignment -> notebook: one row per submission, scores as in the gradebook.
        frame.get_by_role("link", name="Manual Grading").click()
        frame.locator("td.name a", has_text=ASSIGNMENT).click()
        frame.locator("td.name a", has_text=nb_name).click()
        rows = frame.locator("table tbody tr").filter(has=frame.locator("td.score"))
        expect(rows).to_have_count(len(table["students"]), timeout=UI_TIMEOUT_MS)
        frame.get_by_role("button", name="Show All Names").click()  # names are hidden at first
        expect(rows.first.locator("a.name-shown")).to_be_visible()
        max_nb = _js_number(sum(table["max"].values()))
        shown = _display_names(graded_course)  # "Last, First" from the roster, else the id (as nbgrader's JS does)
        assert _scores_by_id(rows, "td.name a.name-shown") == {
            shown[s]: f"{_js_number(total(s, table))} / {max_nb}" for s in table["students"]
        }
        save_screenshot(page, "formgrader-gradebook", shots, readme=True)
        page.close()

    # The feedback page (nbgrader generate_feedback) of a demo student with some mistakes, opened from disk;
    # its contents list links to each test cell: follow the first failed one.
    student = min(
        (s for s in table["students"] if s not in ("solution", "untouched")),
        key=lambda s: (abs(total(s, table) - sum(table["max"].values()) / 2), s),
    )
    failed = next(t for t in table["tests"] if table["students"][student][t] < table["max"][t])
    feedback = graded_course / "feedback" / student / ASSIGNMENT / f"{nb_name}.html"
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(feedback.as_uri())
    header = re.search(r"Score: ([\d.]+) / ([\d.]+)", page.locator("body").inner_text())
    assert header, f"no score on {feedback}"
    assert (float(header[1]), float(header[2])) == (total(student, table), sum(table["max"].values()))
    page.locator(f"a[href='#{failed}']").click()
    cell = page.locator(f"a[name='{failed}'] + .panel-heading")
    expect(cell).to_contain_text(f"Score: {table['students'][student][failed]:.1f} / {table['max'][failed]:.1f}")
    expect(cell).to_be_in_viewport()
    expect(page.locator(f".cell:has(a[name='{failed}'])")).to_contain_text("AssertionError")
    # long messages wrap: at 1280 px every test output, and each "Likely cause" line, fits in the viewport
    # without horizontal scrolling (measured in the page: no output overflows its box or the window)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.output_area pre, .output_subarea pre')].map(e => ({
        text: e.innerText, right: e.getBoundingClientRect().right, scroll: e.scrollWidth, client: e.clientWidth}))""")
    likely = [b for b in boxes if "Likely cause" in b["text"]]
    assert likely, f"no 'Likely cause' message on {feedback}"
    width = VIEWPORT["width"]
    for box in boxes:
        assert box["right"] <= width and box["scroll"] <= box["client"] + 1, (box["text"][:200], box)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    save_screenshot(page, "feedback", shots, readme=True)
    page.close()


def test_class_report_renders_its_figures(browser, graded_course: Path, tmp_path: Path, shots: Path) -> None:
    """The class report (`cnn-course report`) of the demo class opens in Chromium with its three figures
    decoded (an image that fails to load has naturalWidth 0)."""
    from playwright.sync_api import expect

    from grader_utils.instructor.report import write_report

    report = write_report(graded_course, ASSIGNMENT, tmp_path / "report.html")
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(report.as_uri())
    expect(page.locator("h1")).to_contain_text(f"Class report: {ASSIGNMENT}")
    widths = page.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= 3 and all(w > 0 for w in widths), widths
    save_screenshot(page, "class-report", shots, readme=True)
    page.close()
