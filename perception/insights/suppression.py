"""Anonymity: which figures are withheld.

Small-cell suppression
    A *cell* is one perspective (customer, staff or leader) on one dimension or
    one item, within the survey and the filters in force (team, period) and,
    in a grouped report, within one group (a team or a month).  A cell with
    fewer than ``min_n`` respondents (default 5; a cell with no respondent at
    all included) is *suppressed*: it reports its ``n`` and
    ``"suppressed": true``, and every other figure (mean, sd, ci, top box) is
    null.  A gap (``gap``, ``leader_gap``) is entirely null when either of its
    two sides is suppressed, and ``calibration`` is null when the customers or
    the staff of the cell are suppressed, or when fewer than ``min_n`` staff
    members gave predictions in it (the predictions count as a side of their
    own, here and below).  The care index of a perspective is null when fewer than
    ``min_n`` of its respondents answered any mirrored item, and the
    indifference rate is null when fewer than ``min_n`` customers did.

Complementary suppression (grouped reports only, ``--by team|month``)
    Within a group-by report, a single small group could otherwise be
    recovered by differencing: the overall figure minus the other groups.  So,
    for each cell and each perspective separately (and for the care index of
    each perspective and the indifference rate, counting the respondents
    behind them), let S be the groups suppressed so far that have at least one
    respondent.  While S is not empty, the respondents in S add up to fewer
    than ``min_n``, and some group with respondents is still shown, the shown
    group with the fewest respondents (the first in report order on a tie) is
    suppressed as well and joins S.  A group suppressed this way looks exactly
    like a small one: its ``n`` is shown, ``"suppressed": true``, and its other
    figures, and the gaps and calibration that depend on it, are null.  Every
    group is listed, suppressed or not, in the given order.  The ungrouped
    (top-level) figures are never affected by this rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["complementary_suppression", "grouped_small_sides", "is_small", "small_sides"]


class _Counted(Protocol):
    n: int


def is_small(n: int, min_n: int) -> bool:
    """The small-cell rule: fewer than ``min_n`` respondents, or none at all."""
    return n < min_n or n == 0


def complementary_suppression(counts: Sequence[int], min_n: int) -> list[bool]:
    """Which groups to suppress, given each group's respondent count for one cell.

    Returns one flag per group, in order: the small groups plus any group
    suppressed to protect them (see the module docstring).

    >>> complementary_suppression([3, 10, 7, 0], 5)   # 3 alone is < 5: hide the 7 too
    [True, False, True, True]
    >>> complementary_suppression([3, 4, 10], 5)      # 3 + 4 = 7 >= 5: nothing more to hide
    [True, True, False]
    """
    suppressed = [n < min_n or n == 0 for n in counts]  # is_small, inline: 150,000 counts for 2,000 teams
    while True:
        hidden = sum(n for n, flag in zip(counts, suppressed, strict=True) if flag and n >= 1)
        if hidden == 0 or hidden >= min_n:
            return suppressed
        shown = [
            (n, index) for index, (n, flag) in enumerate(zip(counts, suppressed, strict=True)) if not flag and n >= 1
        ]
        if not shown:
            return suppressed
        _, index = min(shown)
        suppressed[index] = True


def small_sides(sides: Mapping[str, _Counted], min_n: int) -> dict[str, bool]:
    """Whether each side of a cell is small: `sides` maps a side (a perspective, or the cell's
    predictions) to what was counted on it (anything with ``n``)."""
    return {side: is_small(counted.n, min_n) for side, counted in sides.items()}


def grouped_small_sides(per_group: Sequence[Mapping[str, _Counted]], min_n: int) -> list[dict[str, bool]]:
    """`small_sides` of one cell in every group of a report, complementary suppression included,
    each side on its own."""
    flags: list[dict[str, bool]] = [{} for _ in per_group]
    for side in per_group[0]:
        column = complementary_suppression([sides[side].n for sides in per_group], min_n)
        for group_flags, flag in zip(flags, column, strict=True):
            group_flags[side] = flag
    return flags
