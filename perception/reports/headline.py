"""The dashboard's one-sentence summary: the largest statistically significant gap, in plain words.

It only chooses among figures of the gap report (perception.insights); it computes none.
"Significant" reads the p-value adjusted for every test of the report (`p_adjusted`,
Benjamini–Hochberg over the report and its groups): a page with 48 tests would otherwise show a
"significant" gap by chance alone about twice.
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


def tests_on_page(report):
    """How many tests the adjustment counted: every gap with a p-value, groups included."""
    return sum(gap.p is not None for body in (report, *report.groups) for cell in (*body.dimensions, *body.items)
               for gap in (cell.gap, cell.leader_gap))


def adjusted_p_text(p):
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def largest_significant_gap(report):
    """(who, dimension cell, gap) with the largest |gap| among those with an adjusted p < 0.05, or None."""
    candidates = [
        (who, cell, gap)
        for cell in report.dimensions
        for who, gap in (("Staff", cell.gap), ("Leaders", cell.leader_gap))
        if gap.value is not None and gap.p_adjusted is not None and gap.p_adjusted < SIGNIFICANCE
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: abs(candidate[2].value))


def headline_sentence(report):
    found = largest_significant_gap(report)
    if found is not None:
        who, cell, gap = found
        direction = "higher" if gap.value > 0 else "lower"
        # The adjusted p is at least the raw one, so p < 0.05 and the interval excludes zero: report it
        # as distances, like the gap itself.
        low, high = sorted(abs(bound) for bound in gap.ci)
        return Sentence(
            f"{who} rate",
            _lower_first(cell.name),
            f"{abs(gap.value):.1f} points {direction} than customers do (95% CI {low:.1f}–{high:.1f}; "
            f"{adjusted_p_text(gap.p_adjusted)} after adjusting for the {tests_on_page(report)} comparisons on "
            f"this page).",
        )
    comparable = any(
        gap.value is not None for cell in report.dimensions for gap in (cell.gap, cell.leader_gap)
    )
    if comparable:
        return Sentence(
            "No gap between customers and staff or leaders is statistically significant yet (adjusted p ≥ 0.05 "
            f"on every dimension, taking the {tests_on_page(report)} comparisons on this page into account). "
            "More responses will show whether the differences you see are real."
        )
    if report.respondents.get("customer", 0) == 0:
        return Sentence("No customer responses yet, so there is no gap to report. Invite customers to answer.")
    return Sentence(
        f"Too few responses to compare perspectives yet: customers and staff or leaders each need at least "
        f"{report.min_n} respondents on a dimension."
    )
