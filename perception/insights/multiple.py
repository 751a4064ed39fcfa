"""Adjusting p-values for the number of tests on a page (issue #16): Benjamini–Hochberg, which
controls the false discovery rate. A page that runs 48 Welch tests reports each adjusted p-value
beside the raw one; headlines and sentences use the adjusted one."""

from __future__ import annotations

from collections.abc import Sequence


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Adjusted p-values in the input's order; None (a suppressed or missing test) stays None and
    does not count as a test. Same result as scipy.stats.false_discovery_control(method="bh")."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank, (p, i) in zip(range(m, 0, -1), sorted(indexed, reverse=True), strict=True):
        running = min(running, p * m / rank)
        adjusted[i] = running
    return adjusted
