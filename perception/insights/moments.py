"""Summaries from moments: what a database can add up without sending every histogram bar.

A histogram bar is a score sum ``s`` over ``c`` answered items with ``r`` respondents. For each
``c`` the sums of ``r``, ``r * s`` and ``r * s * s`` and the respondents with ``s >= 4c`` / ``s <=
2c`` are all ``summarise`` needs: with ``L`` the least common multiple of the counts, the scaled
scores ``s * L / c`` add up to ``sum(L / c * r s)`` and their squares to ``sum((L / c)^2 * r s^2)``.
So a report can ask SQL for one row per count instead of one per bar and get the very same exact
Summary (and so the same floats).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .stats import Summary

__all__ = ["merge_summaries", "summary_from_moments"]

EMPTY = Summary(0)


def summary_from_moments(parts: Iterable[tuple[int, int, int, int, int, int]]) -> Summary:
    """The Summary of the histogram whose bars with ``count`` answered items add up to
    ``(count, respondents, sum of r * s, sum of r * s^2, respondents with s >= 4 count, respondents
    with s <= 2 count)``, one tuple per count. Parts with no respondent or count < 1 are ignored
    (as ``summarise`` ignores such bars)."""
    if type(parts) is list and len(parts) == 1 and parts[0][0] >= 1 and parts[0][1] >= 1:
        # One count (every item, most overall figures): the count is the scale.
        count, respondents, first, second, high, small = parts[0]
        return Summary(respondents, first, second, count, high, small)
    kept = [part for part in parts if part[0] >= 1 and part[1] >= 1]
    if not kept:
        return EMPTY
    scale = math.lcm(*(part[0] for part in kept))  # one part: its count
    n = total = squares = top = low = 0
    for count, respondents, first, second, high, small in kept:
        factor = scale // count
        n += respondents
        total += first * factor
        squares += second * factor * factor
        top += high
        low += small
    return Summary(n, total, squares, scale, top, low)


def merge_summaries(summaries: Iterable[Summary]) -> Summary:
    """The Summary of the respondents of several Summaries together (exact)."""
    kept = [summary for summary in summaries if summary.n]
    if not kept:
        return EMPTY
    if len(kept) == 1:
        return kept[0]
    scale = math.lcm(*(summary.scale for summary in kept))
    n = total = squares = top = low = 0
    for summary in kept:
        factor = scale // summary.scale
        n += summary.n
        total += summary.total * factor
        squares += summary.squares * factor * factor
        top += summary.top
        low += summary.low
    return Summary(n, total, squares, scale, top, low)
