"""The README and docs/ stay true: links resolve, `make` targets exist, score tables match the demo's expected
scores, and the README stays short. Fast: reads text files only (no TensorFlow, no kernels)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 90

FENCE = re.compile(r"^\s*(```|~~~)")
MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
MAKE = re.compile(r"(?:`|^\s*|\$ |sudo )make ([A-Za-z][\w-]*)", re.MULTILINE)
TARGET = re.compile(r"^([A-Za-z][\w-]*)\s*:(?!=)", re.MULTILINE)


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (links and headings there are not Markdown)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return "\n".join(out)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            result.add(base if n == 0 else f"{base}-{n}")
    return result


def links(page: Path) -> list[str]:
    text = prose(page.read_text(encoding="utf-8"))
    return MD_LINK.findall(text) + HTML_LINK.findall(text)


def relative_links() -> list[tuple[Path, str]]:
    return [
        (page, link)
        for page in PAGES
        for link in links(page)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)
    ]


def test_pages_exist() -> None:
    names = {p.name for p in PAGES}
    for name in (
        "student-guide.md",
        "instructor-guide.md",
        "security.md",
        "architecture.md",
        "benchmarks.md",
        "testing.md",
        "hub.md",
    ):
        assert name in names, f"docs/{name} is missing"


@pytest.mark.parametrize("page,link", relative_links(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_relative_link_resolves(page: Path, link: str) -> None:
    path, _, anchor = link.partition("#")
    target = (page.parent / unquote(path)).resolve() if path else page
    assert target.exists(), f"{page.relative_to(ROOT)}: link {link!r} points to a missing file"
    if anchor:
        assert target.suffix == ".md", f"{page.relative_to(ROOT)}: anchor {link!r} into a non-Markdown file"
        assert anchor in anchors(target), (
            f"{page.relative_to(ROOT)}: no heading for #{anchor} in "
            f"{target.relative_to(ROOT)} (headings: {sorted(anchors(target))})"
        )


def test_every_page_is_linked_from_the_readme_or_a_page() -> None:
    linked = {(page.parent / link.partition("#")[0]).resolve() for page, link in relative_links()}
    for page in PAGES[1:]:
        assert page.resolve() in linked, f"{page.relative_to(ROOT)} is not linked from anywhere"


def makefile_targets() -> set[str]:
    return set(TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def test_named_make_targets_exist() -> None:
    targets = makefile_targets()
    assert {"demo", "test"} <= targets  # the parser itself works
    named = {
        (page.relative_to(ROOT).as_posix(), t) for page in PAGES for t in MAKE.findall(page.read_text(encoding="utf-8"))
    }
    assert named, "no `make X` found in the docs: the pattern is broken"
    missing = sorted(f"{page}: make {t}" for page, t in named if t not in targets)
    assert not missing, f"not Makefile targets: {missing}"


def test_readme_is_short_with_one_picture() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move the depth to a page in docs/"
    )
    assert "make demo" in text and "make test" in text
    assert len(HTML_LINK.findall(prose(text))) + len(re.findall(r"!\[", prose(text))) == 1, (
        "the README shows exactly one picture"
    )


# --- score tables: `== scores: A` blocks as `make demo` prints them -------------------------------------------


def score_tables(page: Path) -> dict[str, dict[str, dict[str, str]]]:
    """assignment -> student -> column -> cell ("2/2") of each score table on ``page``."""
    tables: dict[str, dict[str, dict[str, str]]] = {}
    lines = page.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^== scores: (\S+) ", line)
        if not m or i + 1 >= len(lines) or not lines[i + 1].startswith("student |"):
            continue
        header = [c.strip() for c in lines[i + 1].split("|")]
        rows: dict[str, dict[str, str]] = {}
        for row in lines[i + 2 :]:
            cells = [c.strip() for c in row.split("|")]
            if len(cells) != len(header):
                break
            rows[cells[0]] = dict(zip(header[1:], cells[1:]))
        tables[m.group(1)] = rows
    return tables


def expected_scores() -> dict[str, dict[str, dict[str, float]]]:
    return json.loads((ROOT / "demo" / "expected_scores.json").read_text())


def possible_points(assignment: str) -> dict[str, float]:
    """grade_id -> points of every test cell in the instructor's notebooks of ``assignment``."""
    points: dict[str, float] = {}
    for path in sorted((ROOT / "source" / assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("points") is not None:
                points[meta["grade_id"]] = float(meta["points"])
    return points


def fmt(x: float) -> str:
    return f"{x:g}"


def check_table(assignment: str, rows: dict[str, dict[str, str]]) -> None:
    scores = expected_scores()[assignment]
    points = possible_points(assignment)
    assert rows, f"{assignment}: empty score table"
    for student, cells in rows.items():
        got = scores[student]
        for column, cell in cells.items():
            if column == "total":
                want = f"{fmt(sum(got.values()))}/{fmt(sum(points.values()))}"
            else:
                ids = [g for g in points if g.split("__")[0] == column]
                assert ids, f"{assignment}: no test cell of exercise {column!r} in source/"
                want = f"{fmt(sum(got.get(g, 0.0) for g in ids))}/{fmt(sum(points[g] for g in ids))}"
            assert cell == want, f"{assignment}, {student}, {column}: the docs say {cell}, the expected scores {want}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_score_tables_match_expected_scores(page: Path) -> None:
    for assignment, rows in score_tables(page).items():
        check_table(assignment, rows)


def test_instructor_guide_shows_every_demo_score() -> None:
    tables = score_tables(ROOT / "docs" / "instructor-guide.md")
    expected = expected_scores()
    assert set(tables) == set(expected)
    for assignment, rows in tables.items():
        assert set(rows) == set(expected[assignment]), f"{assignment}: students differ from expected_scores.json"
    assert score_tables(README), "the README shows no score table"
