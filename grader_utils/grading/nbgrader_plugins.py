"""nbgrader plug-ins of the course.

``HideHiddenTests`` runs in ``generate_feedback`` (see ``nbgrader_config.py``):
nbgrader's feedback otherwise shows the source of hidden test cells (nbgrader
issues #917, #1363), and a traceback quotes the lines around the failing call.
It removes every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region
from graded cells and shortens their error outputs to the error's name and
message, which is where the course puts its feedback for the student.
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor

from .specs import is_test_cell

__all__ = ["HideHiddenTests", "strip_hidden_regions"]

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"


def strip_hidden_regions(source: str) -> str:
    """Remove hidden-test regions (markers included) from a cell's source."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            hidden = True
        elif END in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


class HideHiddenTests(Preprocessor):
    """Feedback preprocessor: no hidden test code in what a student receives."""

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if not is_test_cell(cell):  # a student's answer graded by hand keeps its whole traceback
            return cell, resources
        cell.source = strip_hidden_regions(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
