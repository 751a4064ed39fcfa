"""The dashboard's one-sentence summary: the largest statistically significant gap, in plain words.

It only chooses among figures of the gap report (perception.insights); it computes none.
"""

from dataclasses import dataclass

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Sentence:
    """`lead`, then `subject` (emphasised on the page, may be empty), then `rest`."""

    lead: str
    subject: str = ""
    rest: str = ""

    def __str__(self):
        return " ".join(part for part in (self.lead, self.subject, self.rest) if part)


def _lower_first(name):
    # "Honest communication" -> "honest communication"; an acronym such as "NPS" stays as it is.
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def largest_significant_gap(report):
    """(who, dimension cell, gap) with the largest |gap| among those with p < 0.05, or None."""
    candidates = [
        (who, cell, gap)
        for cell in report.dimensions
        for who, gap in (("Staff", cell.gap), ("Leaders", cell.leader_gap))
        if gap.value is not None and gap.p is not None and gap.p < SIGNIFICANCE
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: abs(candidate[2].value))


def headline_sentence(report):
    found = largest_significant_gap(report)
    if found is not None:
        who, cell, gap = found
        direction = "higher" if gap.value > 0 else "lower"
        # p < 0.05 means the interval excludes zero: report it as distances, like the gap itself.
        low, high = sorted(abs(bound) for bound in gap.ci)
        return Sentence(
            f"{who} rate",
            _lower_first(cell.name),
            f"{abs(gap.value):.1f} points {direction} than customers do (95% CI {low:.1f}–{high:.1f}).",
        )
    comparable = any(
        gap.value is not None for cell in report.dimensions for gap in (cell.gap, cell.leader_gap)
    )
    if comparable:
        return Sentence(
            "No gap between customers and staff or leaders is statistically significant yet (p ≥ 0.05 on "
            "every dimension). More responses will show whether the differences you see are real."
        )
    if report.respondents.get("customer", 0) == 0:
        return Sentence("No customer responses yet, so there is no gap to report. Invite customers to answer.")
    return Sentence(
        f"Too few responses to compare perspectives yet: customers and staff or leaders each need at least "
        f"{report.min_n} respondents on a dimension."
    )
