"""The verdicts of one suite of cases, and the message a student reads about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..i18n import tr
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
            return tr(
                "PASSED {name}: all {total} {suite} cases match Keras.",
                name=self.name,
                total=self.total,
                suite=self.suite,
            )
        if self.rule_broken:
            return self.failures[0][1].message
        key, explained = self.likely_cause()
        call, shown = self.failures[0]
        if self.only_dtype:
            return tr(
                "{name}: right values, wrong dtype in {wrong} of {total} {suite} cases.\nWrong case: {call}\n"
                "{message}\nWhen graded, a test whose only fault is the dtype keeps {share} of its points: fix the "
                "dtype to get them all.",
                name=self.name,
                wrong=len(self.failures),
                total=self.total,
                suite=self.suite,
                call=call,
                message=shown.message,
                share=DTYPE_SHARE_TEXT,
            )
        if key is not None:
            call, shown = next((c, r) for c, r in self.failures if key in r.details.get("hints", []))
        text = tr(
            "{name}: {wrong} of {total} {suite} cases are wrong.\nWrong case: {call}\n{message}",
            name=self.name,
            wrong=len(self.failures),
            total=self.total,
            suite=self.suite,
            call=call,
            message=shown.message,
        )
        if key is not None:
            if explained == len(self.failures):
                text += "\n" + tr("Likely cause (all of them): {hint}", hint=hints.hint(key))
            else:
                text += "\n" + tr(
                    "Likely cause ({explained} of them): {hint}", explained=explained, hint=hints.hint(key)
                )
        return text
