"""The verdicts of one suite of cases, and the message a student reads about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import hints
from .compare import DTYPE_SHARE_TEXT, CheckResult


@dataclass
class SuiteReport:
    """All verdicts of one suite: ``failures`` holds (call text, result) pairs."""

    name: str
    suite: str
    total: int
    failures: list[tuple[str, CheckResult]] = field(default_factory=list)
    rule_broken: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def only_dtype(self) -> bool:
        """Every wrong case is wrong only by its dtype (right shape, right values once cast)."""
        return (
            bool(self.failures)
            and not self.rule_broken
            and all(r.details.get("problem") == "dtype" and r.details.get("values_ok") for _, r in self.failures)
        )

    def likely_cause(self) -> tuple[str | None, int]:
        """The hint key that explains the most wrong cases, and how many it explains."""
        counts: dict[str, int] = {}
        for _, result in self.failures:
            for key in dict.fromkeys(result.details.get("hints", [])):  # once per case
                counts[key] = counts.get(key, 0) + 1
        if not counts:
            return None, 0
        best = max(counts, key=lambda k: counts[k])  # ties: the first seen, the most specific
        return best, counts[best]

    def message(self) -> str:
        """One line when passed; otherwise the count, one wrong case and the likely cause."""
        if self.passed:
            return f"PASSED {self.name}: all {self.total} {self.suite} cases match Keras."
        if self.rule_broken:
            return self.failures[0][1].message
        key, explained = self.likely_cause()
        call, shown = self.failures[0]
        if self.only_dtype:
            return (
                f"{self.name}: right values, wrong dtype in {len(self.failures)} of {self.total} {self.suite} "
                f"cases.\nWrong case: {call}\n{shown.message}\nWhen graded, a test whose only fault is the "
                f"dtype keeps {DTYPE_SHARE_TEXT} of its points: fix the dtype to get them all."
            )
        if key is not None:
            call, shown = next((c, r) for c, r in self.failures if key in r.details.get("hints", []))
        text = (
            f"{self.name}: {len(self.failures)} of {self.total} {self.suite} cases are wrong.\n"
            f"Wrong case: {call}\n{shown.message}"
        )
        if key is not None:
            share = "all of them" if explained == len(self.failures) else f"{explained} of them"
            text += f"\nLikely cause ({share}): {hints.HINTS[key]}"
        return text
