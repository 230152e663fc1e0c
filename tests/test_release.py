"""release/ is what `make release` generates from source/, and leaks nothing."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT, assignments

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_release_is_up_to_date(generated_course, assignment):
    fresh = sorted(p.name for p in (generated_course / "release" / assignment).glob("*.ipynb"))
    committed = sorted(p.name for p in (ROOT / "release" / assignment).glob("*.ipynb"))
    assert fresh == committed, "release/ has other notebooks than source/: run `make release`"
    for name in fresh:
        new = (generated_course / "release" / assignment / name).read_text()
        old = (ROOT / "release" / assignment / name).read_text()
        assert new == old, f"release/{assignment}/{name} is stale: run `make release` and commit it"


def _solution_lines(cell_source: str) -> set[str]:
    lines = set()
    for region in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell_source, re.S):
        lines |= {line.strip() for line in region.splitlines()}
    # lines too generic to be evidence of a leak
    return {line for line in lines if len(line) > 12 and line not in ("return out", "return counts")}


@pytest.mark.parametrize("assignment", assignments())
def test_release_leaks_no_solution_or_hidden_test(assignment):
    for src in (ROOT / "source" / assignment).glob("*.ipynb"):
        rel = ROOT / "release" / assignment / src.name
        assert rel.exists(), f"no release notebook for {src.name}: run `make release`"
        text = rel.read_text()
        for marker in MARKERS:
            assert marker not in text, f"{rel} contains {marker!r}"
        source_nb = nbformat.read(src, as_version=4)
        secret = set()
        for cell in source_nb.cells:
            secret |= _solution_lines(cell.source)
            for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                secret |= {
                    line.strip()
                    for line in region.splitlines()
                    if line.strip() and not line.strip().startswith(("from ", "import "))
                }
        assert secret, "the source notebook should have solutions and hidden tests"
        release_nb = nbformat.read(rel, as_version=4)
        release_lines = {line.strip() for c in release_nb.cells for line in c.source.splitlines()}
        leaked = sorted(secret & release_lines)
        assert not leaked, f"{rel} contains solution or hidden-test lines: {leaked}"


@pytest.mark.parametrize("assignment", assignments())
def test_release_solution_cells_are_stubs(assignment):
    for rel in (ROOT / "release" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(rel, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                assert "raise NotImplementedError()" in cell.source, cell.metadata["nbgrader"]["grade_id"]
