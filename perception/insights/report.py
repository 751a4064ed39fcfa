"""The gap report (DESIGN section 3): every figure of a survey, optionally per group.

``build_gap_report`` takes the survey structure and aggregated histograms
(``GroupInput``) and returns a frozen ``GapReport`` whose ``to_dict()`` is the
Gap JSON served by ``flask gap --json`` and ``GET /api/v1/surveys/<slug>/gap``.
Anonymity rules are described in ``perception.insights.suppression``. Every gap carries its
Welch p-value and the same adjusted for all the tests of the report (``p_adjusted``,
Benjamini–Hochberg: ``perception.insights.multiple``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .allocation import gc_paused
from .inputs import PERSPECTIVES, DimensionSpec, GroupInput, ItemSpec
from .multiple import benjamini_hochberg
from .stats import (
    NULL_GAP,
    GapStats,
    PerspectiveStats,
    Summary,
    care_index,
    check_min_n,
    describe,
    indifference_rate,
    summarise,
    suppressed_stats,
    welch_gap,
)
from .stats import calibration as calibrate
from .suppression import grouped_small_sides, small_sides

__all__ = ["GROUP_BY", "CellReport", "GapReport", "GroupReport", "build_gap_report"]

GROUP_BY = ("team", "month")


@dataclass(frozen=True)
class CellReport:
    """One dimension (``name`` set) or one item (``dimension`` set) of a report."""

    key: str
    customer: PerspectiveStats
    staff: PerspectiveStats
    leader: PerspectiveStats
    gap: GapStats
    leader_gap: GapStats
    calibration: float | None
    name: str | None = None
    dimension: str | None = None

    def __init__(self, key: str, customer: PerspectiveStats, staff: PerspectiveStats, leader: PerspectiveStats,
                 gap: GapStats, leader_gap: GapStats, calibration: float | None, name: str | None = None,
                 dimension: str | None = None):  # straight into __dict__: see stats.Summary
        stored = self.__dict__
        stored["key"], stored["customer"], stored["staff"], stored["leader"] = key, customer, staff, leader
        stored["gap"], stored["leader_gap"], stored["calibration"] = gap, leader_gap, calibration
        stored["name"], stored["dimension"] = name, dimension

    def to_dict(self) -> dict:
        head: dict = {"key": self.key}
        if self.dimension is not None:
            head["dimension"] = self.dimension
        else:
            head["name"] = self.name
        return head | {
            "customer": self.customer.to_dict(),
            "staff": self.staff.to_dict(),
            "leader": self.leader.to_dict(),
            "gap": self.gap.to_dict(),
            "leader_gap": self.leader_gap.to_dict(),
            "calibration": self.calibration,
        }


@dataclass(frozen=True)
class _Body:
    dimensions: tuple[CellReport, ...]
    items: tuple[CellReport, ...]
    care_index: Mapping[str, float | None]
    respondents: Mapping[str, int]
    indifference_rate: float | None

    def body_dict(self) -> dict:
        return {
            "dimensions": [cell.to_dict() for cell in self.dimensions],
            "items": [cell.to_dict() for cell in self.items],
            "care_index": dict(self.care_index),
            "respondents": dict(self.respondents),
            "indifference_rate": self.indifference_rate,
        }


@dataclass(frozen=True)
class GroupReport(_Body):
    """The report of one group; ``by`` is "team" or "month", ``label`` its value."""

    by: str
    label: str

    def to_dict(self) -> dict:
        return {self.by: self.label} | self.body_dict()


@dataclass(frozen=True)
class GapReport(_Body):
    """A whole report; ``to_dict()`` is the Gap JSON."""

    survey: str
    min_n: int
    filters: Mapping[str, object]
    group_by: str | None
    groups: tuple[GroupReport, ...]

    def to_dict(self) -> dict:
        """The Gap JSON: full floats, ``None`` for null, no NaN or infinity."""
        head = {"survey": self.survey, "min_n": self.min_n, "filters": dict(self.filters)}
        return head | self.body_dict() | {"groups": [group.to_dict() for group in self.groups]}


# --------------------------------------------------------------------------- assembly

# A cell's summaries by side: each perspective, and the staff predictions (PREDICTED).
_Cell = Mapping[str, Summary]
# Which perspectives are suppressed in a cell, and whether its predictions are (PREDICTED).
_Flags = Mapping[str, bool]
# The staff predictions of a cell count as a side of their own: the calibration is a mean of the
# predictions, so it is shown only when at least min_n staff members made them (and, in a grouped
# report, when complementary suppression leaves them shown); otherwise one staff member's guesses
# would be read off it.
PREDICTED = "predicted"


def _cells(group: GroupInput, dimensions: Sequence[DimensionSpec], items: Sequence[ItemSpec]) -> list[_Cell]:
    cells: list[_Cell] = []
    for spec in dimensions:
        cell = {p: summarise(group.dimension_scores.get((p, spec.key))) for p in PERSPECTIVES}
        cell[PREDICTED] = summarise(group.predicted_dimension_scores.get(spec.key))
        cells.append(cell)
    for spec in items:
        cell = {p: summarise(group.item_scores.get((p, spec.key))) for p in PERSPECTIVES}
        cell[PREDICTED] = summarise(group.predicted_item_scores.get(spec.key))
        cells.append(cell)
    return cells


def _overall(group: GroupInput) -> dict[str, Summary]:
    return {p: summarise(group.overall_scores.get(p)) for p in PERSPECTIVES}


def _cell_figures(cell: _Cell, flags: _Flags, key: str, name: str | None, dimension: str | None) -> CellReport:
    """One cell's report (its gaps not yet adjusted: ``_finished``)."""
    customers, staff, leaders, predicted = cell["customer"], cell["staff"], cell["leader"], cell[PREDICTED]
    hide_customers, hide_staff, hide_leaders = flags["customer"], flags["staff"], flags["leader"]
    return CellReport(
        key,
        suppressed_stats(customers.n) if hide_customers else describe(customers),
        suppressed_stats(staff.n) if hide_staff else describe(staff),
        suppressed_stats(leaders.n) if hide_leaders else describe(leaders),
        NULL_GAP if hide_staff or hide_customers else welch_gap(staff, customers),
        NULL_GAP if hide_leaders or hide_customers else welch_gap(leaders, customers),
        None if hide_customers or hide_staff or flags[PREDICTED] else calibrate(predicted, customers),
        name,
        dimension,
    )


def _labels(dimensions: Sequence[DimensionSpec], items: Sequence[ItemSpec]) -> list[tuple]:
    """(key, name, dimension) of every cell: the dimensions, then the items."""
    return [(spec.key, spec.name, None) for spec in dimensions] + [(spec.key, None, spec.dimension) for spec in items]


def _figures(cells: Sequence[_Cell], cell_flags: Sequence[_Flags], labels: Sequence[tuple]) -> list[CellReport]:
    return [
        _cell_figures(cell, flags, key, name, dimension)
        for cell, flags, (key, name, dimension) in zip(cells, cell_flags, labels, strict=True)
    ]


def _body(figures: list[CellReport], overall: Mapping[str, Summary], overall_flags: _Flags) -> dict:
    return {
        "cells": figures,
        "care_index": MappingProxyType({p: None if overall_flags[p] else care_index(overall[p]) for p in PERSPECTIVES}),
        "respondents": MappingProxyType({p: overall[p].n for p in PERSPECTIVES}),
        "indifference_rate": None if overall_flags["customer"] else indifference_rate(overall["customer"]),
    }


@dataclass(frozen=True)
class _Draft:
    """A group's summaries and its figures under the small-cell rule alone, worked out as soon as
    the group arrives (the groups of a large report arrive while the database still reads the next
    ones: perception/reports/queries.py). Complementary suppression needs every group's counts, so
    it is applied when all are in, redoing only the cells it hides."""

    cells: list[_Cell]
    overall: dict[str, Summary]
    flags: list[_Flags]
    figures: list[CellReport]


def _draft(data: GroupInput, dimensions: Sequence[DimensionSpec], items: Sequence[ItemSpec],
           labels: Sequence[tuple], min_n: int) -> _Draft:
    cells = _cells(data, dimensions, items)
    flags = [small_sides(cell, min_n) for cell in cells]
    return _Draft(cells, _overall(data), flags, _figures(cells, flags, labels))


def _p_values(bodies: Sequence[dict]) -> list[float | None]:
    """Every test of the report, in the order of multiple.adjust_report (cells, gap then leader gap)."""
    return [p for body in bodies for cell in body["cells"] for p in (cell.gap.p, cell.leader_gap.p)]


def _finished(body: dict, dimension_count: int, adjusted: Iterator[float | None]) -> dict:
    """The body's cells as dimensions and items, each gap given the next adjusted p-value.

    The value is set on the gap itself: a gap with a p-value was made by ``welch_gap`` for this
    cell of this report and nothing else holds it yet (gaps without one, NULL_GAP among them, get
    None and are left alone). Copying 50,000 gaps and their cells to adjust them (2,000 teams) was
    a tenth of a by-team report's time."""
    cells = body["cells"]
    for cell in cells:
        for gap in (cell.gap, cell.leader_gap):
            p_adjusted = next(adjusted)
            if p_adjusted is not None:
                object.__setattr__(gap, "p_adjusted", p_adjusted)  # frozen for everyone after this
    rest = {name: value for name, value in body.items() if name != "cells"}
    return rest | {"dimensions": tuple(cells[:dimension_count]), "items": tuple(cells[dimension_count:])}


def _validate(dimensions: Sequence[DimensionSpec], items: Sequence[ItemSpec]) -> None:
    dimension_keys = [spec.key for spec in dimensions]
    item_keys = [spec.key for spec in items]
    for what, keys in (("dimension", dimension_keys), ("item", item_keys)):
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"duplicate {what} keys: {', '.join(duplicates)}")
    unknown = sorted({spec.dimension for spec in items} - set(dimension_keys))
    if unknown:
        raise ValueError(f"items refer to unknown dimensions: {', '.join(unknown)}")


def build_gap_report(
    *,
    survey: str,
    dimensions: Sequence[DimensionSpec],
    items: Sequence[ItemSpec],
    overall: GroupInput,
    min_n: int = 5,
    filters: Mapping[str, object] | None = None,
    group_by: str | None = None,
    groups: Iterable[tuple[str, GroupInput]] = (),
) -> GapReport:
    """The gap report of a survey (after filters), and per group when ``group_by`` is set.

    ``groups`` are ``(label, GroupInput)`` pairs in report order (a list, or an
    iterator read once: each group's figures are worked out as it arrives); every
    group is reported, small ones suppressed.  ``group_by`` must be "team" or
    "month" when groups are given.  Dimensions and items keep the given order;
    histogram keys that name no given dimension or item are ignored.
    """
    with gc_paused():
        return _build(survey, dimensions, items, overall, min_n, filters, group_by, groups)


def _build(
    survey: str,
    dimensions: Sequence[DimensionSpec],
    items: Sequence[ItemSpec],
    overall: GroupInput,
    min_n: int,
    filters: Mapping[str, object] | None,
    group_by: str | None,
    groups: Iterable[tuple[str, GroupInput]],
) -> GapReport:
    check_min_n(min_n)
    _validate(dimensions, items)
    if group_by is None and isinstance(groups, Sequence) and groups:
        raise ValueError("groups given without group_by")
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")

    labels = _labels(dimensions, items)
    top = _draft(overall, dimensions, items, labels, min_n)
    top_body = _body(top.figures, top.overall, small_sides(top.overall, min_n))

    # One pass over `groups`, which may be an iterator whose groups are still being read.
    drafts = [(label, _draft(data, dimensions, items, labels, min_n)) for label, data in groups]
    if group_by is None and drafts:
        raise ValueError("groups given without group_by")
    group_bodies: list[tuple[str, dict]] = []
    if drafts:
        per_cell = [
            grouped_small_sides([draft.cells[index] for _, draft in drafts], min_n)
            for index in range(len(labels))
        ]
        overall_flags = grouped_small_sides([draft.overall for _, draft in drafts], min_n)
        for position, (label, draft) in enumerate(drafts):
            figures = draft.figures
            for index, primary in enumerate(draft.flags):
                flags = per_cell[index][position]
                if flags != primary:  # hidden by complementary suppression as well
                    if figures is draft.figures:
                        figures = list(figures)
                    key, name, dimension = labels[index]
                    figures[index] = _cell_figures(draft.cells[index], flags, key, name, dimension)
            group_bodies.append((label, _body(figures, draft.overall, overall_flags[position])))

    # Every gap's p-value is also given adjusted for all the tests of this report (multiple.py).
    adjusted = iter(benjamini_hochberg(_p_values([top_body, *(body for _, body in group_bodies)])))
    top = _finished(top_body, len(dimensions), adjusted)
    group_reports = [
        GroupReport(by=group_by, label=label, **_finished(body, len(dimensions), adjusted))
        for label, body in group_bodies
    ]
    return GapReport(
        survey=survey,
        min_n=min_n,
        filters=MappingProxyType(dict(filters or {})),
        group_by=group_by,
        groups=tuple(group_reports),
        **top,
    )
