"""Feedback is inert (issue #11, item 7): a student's outputs and Markdown cannot run script or load remote
content in the feedback HTML, and every feedback page carries a Content-Security-Policy.

* unit tests of :mod:`grader_utils.inert_feedback` (the preprocessor, the sanitizer, the page hardening);
* end to end (slow): a one-exercise course with this course's ``nbgrader_config.py``, a student whose notebook
  displays HTML with ``<script>``, JavaScript, an SVG with ``onload`` and Markdown with remote images; real
  ``nbgrader generate_assignment``, ``autograde`` (the sandboxed kernel runs the student's code) and
  ``generate_feedback``; the feedback HTML is checked as text and (browser) opened in Debian's Chromium.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from conftest import ROOT, nbgrader
from grader_utils.grading.inert_feedback import (
    CSP,
    InertFeedbackExporter,
    InertOutputs,
    harden_page,
    inert_output,
    sanitize_html,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
REMOTE = "http://127.0.0.1:9"  # nothing listens there; a request to it is what must never happen


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def assert_inert(html: str) -> None:
    """No script element, no event handler, nothing fetched from anywhere but data: URIs."""
    for tag, attrs in Elements(html).tags:
        assert tag not in ("script", "iframe", "object", "embed", "link", "base", "svg"), (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("src", "srcset", "poster", "data", "background", "action", "formaction"):
                assert value.startswith("data:image/"), (tag, name, value)
            assert REMOTE not in value and "javascript:" not in value.lower(), (tag, name, value)


def display(data: dict, **kw) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, **kw)


# --- the preprocessor: outputs ---------------------------------------------------------------------------


def test_script_in_html_output_is_removed_and_the_text_kept():
    out = inert_output(
        display(
            {
                "text/html": f'<b>bold</b><script>document.title = "x"</script>'
                f'<img src="{REMOTE}/a.png" onerror="alert(1)"><p onclick="y">p</p>',
                "text/plain": "<HTML object>",
            }
        )
    )
    html = out.data["text/html"]
    assert "<b>bold</b>" in html and "<p>p</p>" in html
    assert "script" not in html and "document.title" not in html and "onerror" not in html and REMOTE not in html
    assert out.data["text/plain"] == "<HTML object>"


def test_javascript_and_widgets_are_dropped():
    out = inert_output(display({"application/javascript": 'document.title = "x"', "text/plain": "<Javascript>"}))
    assert dict(out.data) == {"text/plain": "<Javascript>"}
    widget = inert_output(display({"application/vnd.jupyter.widget-view+json": {"model_id": "1"}}))
    assert list(widget.data) == ["text/plain"]
    assert "not shown in the feedback" in widget.data["text/plain"]


def test_svg_with_onload_is_dropped():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'
    out = inert_output(display({"image/svg+xml": svg, "text/plain": "<Figure>"}))
    assert dict(out.data) == {"text/plain": "<Figure>"}


def test_markdown_output_with_remote_image_and_script_becomes_sanitized_html():
    out = inert_output(display({"text/markdown": f"**hi** ![x]({REMOTE}/m.png) <script>alert(1)</script>"}))
    assert set(out.data) == {"text/html"}
    assert "<strong>hi</strong>" in out.data["text/html"]
    assert_inert(out.data["text/html"])
    assert "alert" not in out.data["text/html"]


def test_png_jpeg_and_plain_text_stay():
    data = {"image/png": PNG, "image/jpeg": PNG, "text/plain": "<Figure size 640x480>"}
    out = inert_output(display(data, metadata={"image/png": {"width": 64, "height": 48}}))
    assert dict(out.data) == data
    assert out.metadata == {"image/png": {"width": 64, "height": 48}}
    result = inert_output(nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=3))
    assert result.output_type == "execute_result" and result.data == {"text/plain": "42"}
    assert result.execution_count == 3


def test_output_metadata_cannot_name_image_urls():
    """nbconvert's template takes an image's URL from ``metadata.filenames``, which a student can set
    through display(..., metadata=...)."""
    out = inert_output(
        display(
            {"image/png": PNG},
            metadata={"filenames": {"image/png": f"{REMOTE}/p.png"}, "image/png": {"width": "1 onerror=alert(1)"}},
        )
    )
    assert out.metadata == {}


def test_stream_and_error_outputs_of_test_cells_pass_through():
    stream = nbformat.v4.new_output("stream", name="stdout", text="PASSED conv2d (12 cases)\n")
    error = nbformat.v4.new_output(
        "error",
        ename="AssertionError",
        evalue="3 of 9 wrong. Likely cause: x",
        traceback=["AssertionError: 3 of 9 wrong. Likely cause: x"],
    )
    assert inert_output(stream) == stream
    assert inert_output(error) == error


# --- the preprocessor: Markdown cells, whole notebooks --------------------------------------------------------

MARKDOWN = (
    f"# Notes\n\nMy notes <script>document.title = 'x'</script> and `a < b & c`.\n\n"
    f'<img src="{REMOTE}/raw.png" onerror="alert(1)">\n\n![r]({REMOTE}/md.png)\n\n'
    "```python\nx = 1\n\ny = 2\n```\n"
)


def render(nb: nbformat.NotebookNode, exporter: HTMLExporter | None = None) -> str:
    return (exporter or HTMLExporter(template_name="classic")).from_notebook_node(nb)[0]


def test_markdown_cell_with_script_and_remote_images_is_inert_but_readable():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(MARKDOWN)])
    before = render(nb)
    assert "<script>document.title" in before and f'src="{REMOTE}/md.png"' in before  # what nbconvert alone does
    nb, _ = InertOutputs().preprocess(nb, {})
    html = render(nb)  # a plain HTMLExporter: the preprocessor alone makes the cell inert
    body = html[html.index("<body") :]
    assert_inert(body)
    assert "document.title" not in body
    assert "<code>a &lt; b &amp; c</code>" in body  # code spans unharmed
    # a blank line inside a code block is kept
    assert re.search(r'<span class="mi">1</span>\n\n<span class="n">y</span>', body)
    assert re.search(r'<h1 id="Notes">Notes<a class="anchor-link" href="#Notes">', body)


def test_preprocessor_keeps_test_cells_and_source_and_drops_widget_state():
    test_cell = nbformat.v4.new_code_cell("check(f)")
    test_cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    test_cell.outputs = [
        nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong", traceback=["AssertionError: wrong"])
    ]
    student = nbformat.v4.new_code_cell("display(HTML(...))")
    student.outputs = [display({"text/html": "<script>x()</script>ok"})]
    nb = nbformat.v4.new_notebook(cells=[test_cell, student], metadata={"widgets": {"state": {}}})
    student.execution_count = "1 onmouseover=x"  # not valid nbformat, but nbformat.read only warns
    out, _ = InertOutputs().preprocess(nb, {})
    assert out.cells[0].outputs == test_cell.outputs and out.cells[0].source == "check(f)"
    assert out.cells[1].outputs[0].data["text/html"] == "ok"
    assert out.cells[1].execution_count is None
    assert "widgets" not in out.metadata


def test_sanitizer_allow_list():
    html = sanitize_html(
        f'<table class="dataframe" border="1"><tr><th colspan="2">a</th></tr></table>'
        f'<span class="navbar-fixed-top">fake score</span><div style="position:fixed">s</div>'
        f'<a href="javascript:alert(1)">j</a><a href="https://keras.io">k</a>'
        f'<img src="data:image/png;base64,{PNG}"><img src="data:image/svg+xml;base64,AAAA">'
        f'<iframe src="{REMOTE}"></iframe><style>body{{display:none}}</style>'
    )
    assert '<table border="1" class="dataframe">' in html and '<th colspan="2">a</th>' in html
    assert "<span>fake score</span>" in html and "<div>s</div>" in html
    assert "<a>j</a>" in html and '<a href="https://keras.io">k</a>' in html
    assert f'<img src="data:image/png;base64,{PNG}">' in html and "svg" not in html
    assert "iframe" not in html and "display:none" not in html
    assert sanitize_html(html) == html


# --- the exporter: the page's policy and CSS --------------------------------------------------------


def test_harden_page_puts_the_policy_first_and_removes_head_scripts():
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><script src="https://cdn.example/mathjax.js">'
        '</script><script type="text/x-mathjax-config">x</script><style>p{}</style></head><body>b</body></html>'
    )
    hard = harden_page(page)
    head = hard[: hard.index("</head>")]
    assert re.match(r'<!DOCTYPE html>\n<html><head>\n<meta http-equiv="Content-Security-Policy"', hard)
    assert CSP in head and "script" not in head.replace("script-src", "")
    assert "white-space: pre-wrap" in head and "overflow-wrap: anywhere" in head
    with pytest.raises(ValueError):
        harden_page("<html><body>no head</body></html>")


def test_exporter_sanitizes_markdown_it_renders_and_adds_the_policy():
    """Markdown that reaches the template unprocessed (e.g. an instructor's comment, or without the
    preprocessor) is sanitized by the exporter's markdown2html; the page has the policy."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(MARKDOWN)])
    html = render(nb, InertFeedbackExporter(template_name="classic"))
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert_inert(html)
    assert "document.title" not in html


# --- end to end: real nbgrader on a one-exercise course ----------------------------------------------------------

ATTACK = f'''from IPython.display import HTML, Javascript, SVG, Markdown, display
display(HTML('<b>bold html</b><script>document.title = "pwned-html"; window.pwned = 1;</script>'
             '<img src="{REMOTE}/html.png" onerror="window.pwned = 2">'))
display(Javascript('document.title = "pwned-js"; window.pwned = 3;'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned = 4"><circle r="5"/></svg>'))
display(Markdown('![remote]({REMOTE}/md.png) <script>window.pwned = 5</script>'))
print("plain text stays")

import numpy as np

def correlate2d(image, kernel):  # wrong (a true convolution): the test fails with a long "Likely cause"
    k = kernel[::-1, ::-1]
    h, w = image.shape[0] - k.shape[0] + 1, image.shape[1] - k.shape[1] + 1
    return np.array([[np.sum(image[i:i + k.shape[0], j:j + k.shape[1]] * k) for j in range(w)]
                     for i in range(h)], dtype=image.dtype)
'''
NOTES = (
    f'My notes <script>window.pwned = 6</script>\n\n<img src="{REMOTE}/cell.png" onerror="window.pwned = 7">'
    f"\n\n![r]({REMOTE}/cell2.png)"
)


def _tiny_source() -> nbformat.NotebookNode:
    def cell(kind: str, source: str, **meta) -> nbformat.NotebookNode:
        c = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if meta:
            c.metadata["nbgrader"] = {"schema_version": 3, **meta}
        return c

    nb = nbformat.v4.new_notebook(
        cells=[
            cell("markdown", "# Tiny\nWrite `correlate2d`."),
            cell(
                "code",
                "import numpy as np\n\ndef correlate2d(image, kernel):\n    ### BEGIN SOLUTION\n"
                "    kh, kw = kernel.shape\n    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1\n"
                "    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(w)]\n"
                "                     for i in range(h)], dtype=image.dtype)\n    ### END SOLUTION",
                solution=True,
                grade=False,
                locked=False,
                grade_id="correlate2d",
            ),
            # the course's graded checks are the only test cells its grader judges (see docs/security.md)
            cell(
                "code",
                "from grader_utils.checks import check_correlate2d\n\ncheck_correlate2d(correlate2d, 'basic')",
                grade=True,
                solution=False,
                locked=True,
                grade_id="correlate2d__basic",
                points=1,
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def feedback_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """feedback/mallory/ps1/tiny.html of a one-exercise course graded with this course's nbgrader_config.py."""
    course = tmp_path_factory.mktemp("inert-course")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "source" / "ps1").mkdir(parents=True)
    nbformat.write(_tiny_source(), course / "source" / "ps1" / "tiny.ipynb")
    nbgrader(course, "generate_assignment", "ps1", "--force")
    nb = nbformat.read(course / "release" / "ps1" / "tiny.ipynb", 4)
    nb.cells[1].source = ATTACK
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(NOTES))
    (course / "submitted" / "mallory" / "ps1").mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / "mallory" / "ps1" / "tiny.ipynb")
    nbgrader(course, "autograde", "ps1")
    graded = nbformat.read(course / "autograded" / "mallory" / "ps1" / "tiny.ipynb", 4)
    kinds = {key for cell in graded.cells for out in cell.get("outputs", []) for key in out.get("data", {})}
    assert {"text/html", "application/javascript", "image/svg+xml", "text/markdown"} <= kinds  # the attack ran
    nbgrader(course, "generate_feedback", "ps1")
    return course / "feedback" / "mallory" / "ps1" / "tiny.html"


@pytest.mark.slow
def test_feedback_of_real_nbgrader_is_inert(feedback_html: Path):
    html = feedback_html.read_text()
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    head = html[: html.index("</head>")]
    assert head.index("Content-Security-Policy") < head.index("<style")  # before anything else is loaded
    assert "<script" not in html.lower()
    assert_inert(html)
    # the student's content is there, as inert text
    assert "<b>bold html</b>" in html and "plain text stays" in html and "My notes" in html
    assert "Likely cause" in html and "overflow-wrap: anywhere" in html


@pytest.mark.slow
@pytest.mark.browser
def test_feedback_runs_no_script_and_loads_nothing_in_chromium(feedback_html: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from browser_utils import CHROMIUM_ARGS, VIEWPORT, chromium_executable, save_screenshot

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            requests: list = []
            page.on("request", lambda request: requests.append(request))
            page.goto(feedback_html.as_uri())
            page.wait_for_load_state("load")
            page.wait_for_timeout(500)
            assert page.title() == "tiny"
            assert page.evaluate("typeof window.pwned") == "undefined"
            others = [r for r in requests if r.url != feedback_html.as_uri() and not r.url.startswith("data:")]
            # the student's URLs are not even tried (sanitized away) ...
            assert [r.url for r in others if REMOTE in r.url] == []
            # ... and whatever else the page asks for (Bootstrap's glyphicon fonts, ../fonts/ next to the
            # page) is refused by the policy: Chromium reports such a request as failed with "csp"
            assert [(r.url, r.failure) for r in others if r.failure != "csp"] == []
            assert "plain text stays" in page.locator("body").inner_text()
            # the long one-line test message wraps inside its box
            error = page.locator("div.output_error pre", has_text="Likely cause").first
            assert error.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the error message overflows"
            assert error.bounding_box()["width"] < VIEWPORT["width"]
            save_screenshot(page, "feedback-inert", tmp_path)
        finally:
            browser.close()


@pytest.mark.slow
def test_formgrader_manual_grading_page_shows_the_student_outputs_inert(feedback_html: Path):
    """The Formgrader renders a submission with ``HTMLExporter(config=<the course's config>)`` and its
    'formgrade' template (nbgrader/server_extensions/formgrader): the course's InertOutputs runs there too,
    so a student's script does not run in the instructor's Formgrader session. (The page keeps the
    Formgrader's own scripts; no policy there.)"""
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config.loader import PyFileConfigLoader

    course = feedback_html.parents[3]
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.HTMLExporter.template_name = "formgrade"  # what FormgradeExtension.build_extra_config sets
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": "ps1",
        "notebook_id": "tiny",
        "submission_id": "s",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "mallory",
        "last_name": None,
        "first_name": None,
        "notebook_path": "/tiny.ipynb",
    }
    html, _ = HTMLExporter(config=config).from_filename(
        str(course / "autograded" / "mallory" / "ps1" / "tiny.ipynb"), resources=resources
    )
    assert "<b>bold html</b>" in html  # the student's output is there, none of the attacks
    assert not re.search(r"<script[^>]*>[^<]*pwned", html)
    for tag, attrs in Elements(html).tags:
        assert not any("pwned" in value or REMOTE in value for value in attrs.values()), (tag, attrs)
        assert tag != "svg"


def test_an_editions_page_says_the_templates_words_in_its_language():
    """nbgrader's feedback template is English; an edition's pages say its words in the edition's language (the
    whole page, graded in Russian, is checked in test_editions.py)."""
    from grader_utils.grading.inert_feedback import translate_template

    page = (
        '<html>\n<h4>convolution (Score: 4.0 / 7.0)</h4>\n<li><a href="#x">Test cell</a> (Score: 1.0 / 1.0)</li>\n'
        '<li><a href="#comment-x">Comment</a></li>\n      Score: 0.0 / 2.0 <a href="#top">(Top)</a>\n'
        '<span class="nbgrader-label">Student\'s answer</span><span class="nbgrader-label">Grade cell: <code>'
        "x</code></span><b>Comments:</b> Test cell of a student</html>"
    )
    ru = translate_template(page, "ru")
    assert ru.startswith('<html lang="ru">') and "(Баллы: 4.0 / 7.0)" in ru and ">Тестовая ячейка</a>" in ru
    assert "      Баллы: 0.0 / 2.0" in ru and "(Наверх)</a>" in ru and ">Ответ студента</span>" in ru
    assert ">Оцениваемая ячейка: <code>" in ru and "<b>Комментарии:</b>" in ru and ">Комментарий</a>" in ru
    assert ru.endswith("Test cell of a student</html>")  # a student's own words are not the template's
    assert translate_template(page, "en") == page and translate_template(page, None) == page
