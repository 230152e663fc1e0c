"""Inert feedback: nothing a student put in a notebook can run script or load remote content in the
feedback HTML that ``nbgrader generate_feedback`` writes (issue #11, item 7). Two layers, both configured
in ``nbgrader_config.py``:

* :class:`InertOutputs`, a preprocessor of the feedback's HTML exporter, rewrites what the student
  controls before the template sees it. Every output keeps only plain text, LaTeX (shown as text),
  PNG/JPEG images and allow-list-sanitized HTML (``text/markdown`` is rendered and sanitized into
  ``text/html``); JavaScript, widgets, SVG (it can carry script) and every other type are dropped, with a
  ``text/plain`` note when nothing else is left. Output metadata keeps only image sizes and alt text (nbconvert
  would otherwise take ``filenames`` from it as image URLs). Markdown and raw cells are rendered/sanitized the
  same way. Stream and error outputs (what the course's test cells print) pass through: the template
  escapes them.
* :class:`InertFeedbackExporter`, the HTML exporter of ``generate_feedback``, sanitizes every HTML it
  renders from Markdown (cells, comments) once more and gives each page a Content-Security-Policy: no script
  at all, images only as ``data:`` URIs, no fonts, frames, connections, forms or ``<base>`` from anywhere. It
  also removes the template's own ``<script>`` tags from the page's head: nbgrader's feedback template loads
  MathJax from a CDN, which the policy would block anyway, so formulas in feedback show as LaTeX source.

Sanitizing uses ``bleach`` (a dependency of nbconvert) with the allow-list below: text structure, lists,
tables, code, ``<img>`` only with a ``data:image/{png,jpeg,gif,webp}`` source; no ``style``, no event handler,
and ``class`` only with the few harmless values that Pygments, pandas and nbconvert's anchors use (so a
student cannot borrow the page's Bootstrap classes to lay a fake score over the real one).
"""

from __future__ import annotations

import re
from typing import Any

import bleach
import nbformat
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

from ..i18n import N_, tr, using_language

try:  # Jinja >= 3
    from jinja2 import pass_context
except ImportError:  # pragma: no cover
    from jinja2 import contextfilter as pass_context  # type: ignore[attr-defined,no-redef]

__all__ = [
    "CSP",
    "FEEDBACK_CSS",
    "InertFeedbackExporter",
    "InertOutputs",
    "harden_page",
    "markdown_to_safe_html",
    "sanitize_html",
]

#: The policy of every feedback page. A <meta> policy cannot set frame-ancestors or sandbox; everything else
#: that could run or fetch is closed. 'unsafe-inline' styles: nbconvert and nbgrader inline all their CSS.
#: MathJax (nbgrader's template loads it from cdnjs) is blocked on purpose: formulas show as LaTeX source.
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; connect-src 'none'; "
    "img-src data:; style-src 'unsafe-inline'; font-src 'none'; media-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)

#: Added to every feedback page: long lines of test output (the course's one-line "Likely cause ..."
#: messages) wrap instead of running off the right edge of nbgrader's feedback panel.
FEEDBACK_CSS = """
div.output_subarea pre, div.output_area pre, div.output_text pre, div.output_error pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  word-break: normal;
}
"""

TAGS = {
    "a",
    "abbr",
    "acronym",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
}
#: elements whose content is no text for a reader: removed with their content before bleach (which would
#: otherwise keep e.g. a script's source as visible text)
DROP_WITH_CONTENT = [
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "object",
    "embed",
    "applet",
    "title",
    "textarea",
    "select",
    "svg",
    "math",
    "head",
]
PROTOCOLS = {"http", "https", "mailto", "data"}  # data: is then allowed on <img> only (see _allowed_attribute)
SAFE_IMAGE_SRC = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
#: Pygments' short token classes, its "highlight" block, nbconvert's heading anchors, pandas' tables
SAFE_CLASS = re.compile(r"^(highlight|anchor-link|dataframe|[a-z]{1,3}[0-9]?)$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return all(SAFE_CLASS.match(token) for token in value.split())
    if tag == "a":
        return name == "title" or (name == "href" and not value.strip().lower().startswith("data:"))
    if tag == "img":
        if name == "src":
            return bool(SAFE_IMAGE_SRC.match(value))
        return name in ("alt", "title", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align")
    if tag == "table":
        return name == "border"
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return name == "id"  # the targets of the anchor links nbconvert puts on headings
    if tag in ("abbr", "acronym"):
        return name == "title"
    return False


def sanitize_html(html: str) -> str:
    """``html`` reduced to the allow-list: no script, no event handler, no style, nothing fetched from
    anywhere (images only as ``data:`` URIs). Idempotent."""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(DROP_WITH_CONTENT):
        element.decompose()
    for image in soup.find_all("img"):  # an image from elsewhere: a short note instead of a broken image
        if not SAFE_IMAGE_SRC.match(str(image.get("src", ""))):
            alt = str(image.get("alt", "")).strip()
            image.replace_with(f"[image not shown in the feedback{': ' + alt if alt else ''}]")
    return bleach.clean(
        str(soup), tags=TAGS, attributes=_allowed_attribute, protocols=PROTOCOLS, strip=True, strip_comments=True
    )


def markdown_to_safe_html(source: str, attachments: dict | None = None) -> str:
    """Markdown rendered as nbconvert renders it (attachments become data: URIs), then sanitized."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, anchor_link_text="¶")
    return sanitize_html(MarkdownWithMath(renderer=renderer).render(source))


def _as_markdown_html_block(html: str) -> str:
    """Sanitized HTML as a Markdown source that renders back to exactly that HTML: one ``<div>`` on one line
    (a CommonMark HTML block runs to the next blank line, so there must be none; inside ``<pre>`` a newline
    written as ``&#10;`` is still a newline). Tags never contain a newline after bleach."""
    return "<div>" + html.replace("\r\n", "\n").replace("\n", "&#10;") + "</div>"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


KEPT_AS_IS = ("text/plain", "text/latex", "image/png", "image/jpeg")  # escaped by the template / data: images


def _metadata_value_ok(key: str, value: Any) -> bool:
    if key in ("width", "height"):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str) if key == "alt" else key == "unconfined" and isinstance(value, bool)


def _safe_metadata(metadata: dict) -> dict:
    """Only the image sizes, alt text and ``unconfined`` flag that nbconvert's template reads (escaped)."""
    safe: dict = {}
    for mime in ("image/png", "image/jpeg"):
        entry = metadata.get(mime)
        if isinstance(entry, dict):
            kept = {k: v for k, v in entry.items() if _metadata_value_ok(k, v)}
            if kept:
                safe[mime] = kept
    return safe


def inert_output(output: dict) -> nbformat.NotebookNode:
    """A copy of one output that renders as text, images and sanitized HTML only."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        return nbformat.v4.new_output(
            "error",
            ename=str(output.get("ename", "")),
            evalue=str(output.get("evalue", "")),
            traceback=[str(line) for line in output.get("traceback", [])],
        )
    data_in = output.get("data", {}) if kind in ("display_data", "execute_result") else {}
    data: dict[str, Any] = {key: data_in[key] for key in KEPT_AS_IS if key in data_in}
    for key in ("text/plain", "text/latex"):
        if key in data:
            data[key] = _text(data[key])
    for key in ("image/png", "image/jpeg"):
        if key in data:
            data[key] = re.sub(r"[^A-Za-z0-9+/=\n]", "", _text(data[key]))
    if "text/html" in data_in:
        data["text/html"] = sanitize_html(_text(data_in["text/html"]))
    elif "text/markdown" in data_in:
        data["text/html"] = markdown_to_safe_html(_text(data_in["text/markdown"]))
    if not data:
        data["text/plain"] = f"[output not shown in the feedback: {', '.join(sorted(data_in)) or kind}]"
    metadata = _safe_metadata(output.get("metadata", {}) or {})
    if kind == "execute_result":
        count = output.get("execution_count")
        return nbformat.v4.new_output(
            "execute_result", data=data, metadata=metadata, execution_count=count if isinstance(count, int) else None
        )
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


class InertOutputs(Preprocessor):
    """Feedback preprocessor: every output, Markdown and raw cell of the notebook becomes inert (see the
    module's docstring). Applied to all cells: the test cells' outputs are stream and error outputs, which
    pass through unchanged."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        nb.metadata.pop("widgets", None)  # saved widget state: nothing to render without script
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type == "code":
            cell.outputs = [inert_output(output) for output in cell.get("outputs", [])]
            if not isinstance(cell.get("execution_count"), int):
                cell.execution_count = None
        elif cell.cell_type == "markdown":
            html = markdown_to_safe_html(cell.source, cell.get("attachments"))
            cell.source = _as_markdown_html_block(html)
            cell.pop("attachments", None)
        elif cell.cell_type == "raw":
            cell.source = sanitize_html(cell.source)
        return cell, resources


HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
HEAD_CLOSE = re.compile(r"</head\s*>", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def harden_page(page: str) -> str:
    """The page with :data:`CSP` as the first element of its head, the head's (template) scripts removed and
    :data:`FEEDBACK_CSS` at the end of the head. The head is the template's own (it comes before any
    notebook content); a page without one is an error, never a page without a policy."""
    opened = HEAD_OPEN.search(page)
    closed = HEAD_CLOSE.search(page, opened.end()) if opened else None
    if not opened or not closed:
        raise ValueError("feedback page has no <head>...</head>: cannot add its Content-Security-Policy")
    head = SCRIPT.sub("", page[opened.end() : closed.start()])
    meta = f'\n<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
    style = f'<style type="text/css">{FEEDBACK_CSS}</style>\n'
    return page[: opened.end()] + meta + head + style + page[closed.start() :]


#: the English words of nbgrader's feedback template (feedback/index.html.j2), as they stand in the page: an
#: edition's pages say them in its language (the rest of the template is markup and numbers)
TEMPLATE_WORDS = (
    (re.compile(r"\(Score: "), N_("(Score: ")),
    (re.compile(r"(?m)^(\s*)Score: "), N_("Score: ")),
    (re.compile(r">Test cell</a>"), N_("Test cell")),
    (re.compile(r">Coding free-response</a>"), N_("Coding free-response")),
    (re.compile(r">Written response</a>"), N_("Written response")),
    (re.compile(r">Task</a>"), N_("Task")),
    (re.compile(r">Comment</a>"), N_("Comment")),
    (re.compile(r">Late submission penalty \("), N_("Late submission penalty")),
    (re.compile(r"\(Top\)</a>"), N_("(Top)")),
    (re.compile(r'"nbgrader-label">Student\'s answer</span>'), N_("Student's answer")),
    (re.compile(r'"nbgrader-label">Student\'s task</span>'), N_("Student's task")),
    (re.compile(r'"nbgrader-label">Grade cell: '), N_("Grade cell: ")),
    (re.compile(r'"nbgrader-label">Task: '), N_("Task: ")),
    (re.compile(r"<b>Comments:</b>"), N_("Comments:")),
)


def translate_template(page: str, language: str | None) -> str:
    """nbgrader's template words of a feedback page in ``language`` (the page as it is for English or None);
    with ``lang`` on its ``<html>`` element."""
    if not language or language == "en":
        return page
    with using_language(language):
        for pattern, word in TEMPLATE_WORDS:
            english = word.strip()

            def said(match: re.Match[str], english: str = english, word: str = word) -> str:
                return match.group(0).replace(english, tr(word).strip(), 1)

            page = pattern.sub(said, page)
    return re.sub(r"<html\b(?![^>]*\blang=)", f'<html lang="{language}"', page, count=1)


class InertFeedbackExporter(HTMLExporter):
    """``generate_feedback``'s exporter (``c.GenerateFeedback.exporter_class``): nbgrader's feedback
    template as usual, HTML from Markdown sanitized, and the Content-Security-Policy on every page; in an
    edition (``c.CourseEdition.language``), the template's words in the edition's language."""

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        return sanitize_html(super().markdown2html(context, source))

    def from_notebook_node(  # type: ignore[override]  # (HTML text, as HTMLExporter returns)
        self, nb: Any, resources: dict | None = None, **kw: Any
    ) -> tuple[str, dict]:
        output, resources = super().from_notebook_node(nb, resources, **kw)
        language = self.config.CourseEdition.get("language") if "CourseEdition" in self.config else None
        return harden_page(translate_template(output, language)), resources
