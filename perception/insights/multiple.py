"""Adjusting p-values for the number of tests on a page (issue #16): Benjamini–Hochberg, which
controls the false discovery rate. A page that runs 48 Welch tests reports each adjusted p-value
beside the raw one; headlines and sentences use the adjusted one.

"The page" is one gap report with its groups: every Welch test it contains (``gap`` and
``leader_gap`` of every dimension and item, at the top level and in every ``--by`` group) is one
family, and ``adjust_report`` sets each gap's ``p_adjusted`` over that family. Tests without a
p-value (a suppressed side, no spread) are not counted. The tests of one report overlap (a team's
answers are in the whole survey's too); Benjamini–Hochberg holds for such positively dependent
tests (Benjamini & Yekutieli 2001)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

__all__ = ["adjust_report", "benjamini_hochberg"]

Report = TypeVar("Report")


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


def _changed(record: Any, **changes: Any) -> Any:
    """A copy of the frozen dataclass ``record`` with ``changes``; what ``dataclasses.replace`` does
    without calling ``__init__`` again (its field introspection was a third of a by-team report's
    time: 2,000 teams have 150,000 gaps and cells). Only ever sets fields that already hold values
    of the same meaning (a gap, an adjusted p-value), so ``__post_init__`` has nothing to check."""
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__, **changes)
    return copy


def _adjusted_body(body: Any, adjusted: Any) -> Any:
    """``body`` (a report or a group) with its cells' gaps given the next adjusted values, in the
    order of ``_tests``."""
    def gap_with(gap: Any, p_adjusted: float | None) -> Any:
        return gap if p_adjusted is None and gap.p_adjusted is None else _changed(gap, p_adjusted=p_adjusted)

    def cell_with(cell: Any) -> Any:
        gap, leader_gap = gap_with(cell.gap, next(adjusted)), gap_with(cell.leader_gap, next(adjusted))
        return cell if gap is cell.gap and leader_gap is cell.leader_gap else _changed(
            cell, gap=gap, leader_gap=leader_gap)

    dimensions = tuple(cell_with(cell) for cell in body.dimensions)
    return replace(body, dimensions=dimensions, items=tuple(cell_with(cell) for cell in body.items))


def _tests(body: Any) -> list[float | None]:
    return [p for cell in (*body.dimensions, *body.items) for p in (cell.gap.p, cell.leader_gap.p)]


def adjust_report(report: Report) -> Report:
    """``report`` with ``p_adjusted`` set on every gap, adjusted over all the tests it contains (its
    own cells, then each group's). Works for any frozen dataclass with ``dimensions`` and ``items``
    of cells carrying ``gap`` and ``leader_gap`` (and optionally ``groups`` of the same shape), so
    other reports of the same figures (the trend) adjust the same way."""
    groups = tuple(getattr(report, "groups", ()))
    p_values = _tests(report) + [p for group in groups for p in _tests(group)]
    adjusted = iter(benjamini_hochberg(p_values))
    top = _adjusted_body(report, adjusted)
    if not groups:
        return top
    return replace(top, groups=tuple(_adjusted_body(group, adjusted) for group in groups))
