"""The gap statistics (DESIGN section 2) on score histograms.

All sums are exact: a histogram's respondent scores are rationals ``s / c``;
scaled by the least common multiple ``L`` of the counts they become integers,
so ``n``, the mean and the sample variance are exact fractions, converted to
``float`` once.  A standard deviation is therefore exactly 0 when every score
is equal, and no figure can be NaN or infinite.

* ``describe``: n, mean, sample sd (n - 1), t confidence interval, top box.
* ``welch_gap``: difference of means with Welch's interval and p-value.
* ``calibration``, ``care_index``, ``indifference_rate``.

Anonymity (``min_n``) is applied here only as a simple threshold; the report
applies the full rule, including complementary suppression across groups.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

from .critical_values import t975
from .distributions import t_ppf, t_sf_positive
from .inputs import ScoreCounts, clean_counts

__all__ = [
    "CONFIDENCE",
    "GapStats",
    "PerspectiveStats",
    "Summary",
    "calibration",
    "care_index",
    "describe",
    "indifference_rate",
    "summarise",
    "welch_gap",
]

CONFIDENCE = 0.95
_Q = 1.0 - (1.0 - CONFIDENCE) / 2.0  # 0.975


@functools.lru_cache(maxsize=2048)
def _critical_value(df: int) -> float:
    """t(0.975, df) for a whole number of degrees of freedom (cached: one per sample size)."""
    return t_ppf(_Q, df)


@dataclass(frozen=True)
class Summary:
    """Exact sufficient statistics of a histogram, in integers.

    Every respondent's score times ``scale`` (the least common multiple of the counts) is an
    integer; ``total`` and ``squares`` are the sums of those integers and of their squares, ``top``
    and ``low`` the respondents with score >= 4 / <= 2. ``mean``, ``variance`` (sample, n - 1),
    ``top_box`` and ``low_box`` are exact fractions derived from them: ``mean`` and the shares are
    ``None`` when n = 0, ``variance`` when n < 2. The figures are computed from the integers with
    one correctly rounded division each (the same floats as converting the fractions, at a
    fraction of the cost: a by-team report of 2,000 teams summarises 400,000 histograms).
    """

    n: int
    total: int = 0
    squares: int = 0
    scale: int = 1
    top: int = 0
    low: int = 0

    # Frozen dataclasses set each field through object.__setattr__, which made building these
    # records (some 250,000 summaries, figures and gaps in a by-team report of 2,000 teams) a fifth of
    # the report's time; these __init__s store the fields straight into the instance's __dict__, as
    # frozen as before. tests/insights/test_insights_records.py keeps each in step with its fields.
    def __init__(self, n: int, total: int = 0, squares: int = 0, scale: int = 1, top: int = 0, low: int = 0):
        stored = self.__dict__
        stored["n"], stored["total"], stored["squares"] = n, total, squares
        stored["scale"], stored["top"], stored["low"] = scale, top, low

    @property
    def mean(self) -> Fraction | None:
        return Fraction(self.total, self.n * self.scale) if self.n else None

    @property
    def variance(self) -> Fraction | None:
        return Fraction(self.spread, self.n * (self.n - 1) * self.scale * self.scale) if self.n >= 2 else None

    @property
    def top_box(self) -> Fraction | None:
        return Fraction(self.top, self.n) if self.n else None

    @property
    def low_box(self) -> Fraction | None:
        return Fraction(self.low, self.n) if self.n else None

    @property
    def spread(self) -> int:
        """n * sum(x^2) - sum(x)^2 in scaled integers: n (n - 1) scale^2 times the sample variance."""
        return self.n * self.squares - self.total * self.total


_EMPTY = Summary(0)


def summarise(counts: ScoreCounts | Summary | None) -> Summary:
    """Exact n, mean, sample variance, top-box and low-box shares of a histogram."""
    if isinstance(counts, Summary):
        return counts
    if not counts:
        return _EMPTY
    cleaned = clean_counts(counts)
    n = sum(cleaned.values())
    if n == 0:
        return _EMPTY
    scale = math.lcm(*{count for _, count in cleaned})
    first = second = top = low = 0
    for (total, count), frequency in cleaned.items():
        scaled = total * (scale // count)  # the score times ``scale``, an integer
        first += frequency * scaled
        second += frequency * scaled * scaled
        if total >= 4 * count:
            top += frequency
        if total <= 2 * count:
            low += frequency
    return Summary(n, first, second, scale, top, low)


def _mean_difference(a: Summary, b: Summary) -> float:
    """float(a.mean - b.mean), correctly rounded, both n >= 1."""
    a_den, b_den = a.n * a.scale, b.n * b.scale
    return (a.total * b_den - b.total * a_den) / (a_den * b_den)


@dataclass(frozen=True)
class PerspectiveStats:
    """One perspective in one cell.  When ``suppressed`` every figure but ``n`` is None."""

    n: int
    mean: float | None
    sd: float | None
    ci: tuple[float, float] | None
    top_box: float | None
    suppressed: bool

    def __init__(self, n: int, mean: float | None, sd: float | None, ci: tuple[float, float] | None,
                 top_box: float | None, suppressed: bool):  # straight into __dict__: see Summary
        stored = self.__dict__
        stored["n"], stored["mean"], stored["sd"] = n, mean, sd
        stored["ci"], stored["top_box"], stored["suppressed"] = ci, top_box, suppressed

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "ci": list(self.ci) if self.ci is not None else None,
            "top_box": self.top_box,
            "suppressed": self.suppressed,
        }


@functools.lru_cache(maxsize=256)
def suppressed_stats(n: int) -> PerspectiveStats:
    """The figures of a suppressed cell: ``n`` only (one shared, immutable object per ``n``)."""
    return PerspectiveStats(n=n, mean=None, sd=None, ci=None, top_box=None, suppressed=True)


def check_min_n(min_n: int) -> int:
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"min_n must be an integer >= 1, got {min_n!r}")
    return min_n


def describe(counts: ScoreCounts | Summary | None, *, min_n: int = 1) -> PerspectiveStats:
    """n, mean, sd, 95 % t interval and top box; suppressed when n < min_n (n = 0 always)."""
    summary = counts if type(counts) is Summary else summarise(counts)
    if type(min_n) is not int or min_n < 1:
        check_min_n(min_n)
    n = summary.n
    if n < min_n or n == 0:
        return suppressed_stats(n)
    total, scale = summary.total, summary.scale
    mean = total / (n * scale)
    sd = ci = None
    if n >= 2:
        sd = math.sqrt((n * summary.squares - total * total) / (n * (n - 1) * scale * scale))
        half_width = _critical_value(n - 1) * sd / math.sqrt(n)
        ci = (mean - half_width, mean + half_width)
    return PerspectiveStats(n, mean, sd, ci, summary.top / n, False)


@dataclass(frozen=True)
class GapStats:
    """A gap: other perspective minus customers.  All None when either side is suppressed."""

    value: float | None
    ci: tuple[float, float] | None
    p: float | None
    top_box_gap: float | None
    # p adjusted for every test of the report it belongs to (Benjamini-Hochberg, see
    # perception.insights.multiple.adjust_report); None until adjusted, and wherever p is None.
    p_adjusted: float | None = None

    def __init__(self, value: float | None, ci: tuple[float, float] | None, p: float | None,
                 top_box_gap: float | None, p_adjusted: float | None = None):  # straight into __dict__: see Summary
        stored = self.__dict__
        stored["value"], stored["ci"], stored["p"] = value, ci, p
        stored["top_box_gap"], stored["p_adjusted"] = top_box_gap, p_adjusted

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "ci": list(self.ci) if self.ci is not None else None,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "top_box_gap": self.top_box_gap,
        }


NULL_GAP = GapStats(value=None, ci=None, p=None, top_box_gap=None)


def welch_gap(a: ScoreCounts | Summary | None, b: ScoreCounts | Summary | None, *, min_n: int = 1) -> GapStats:
    """Mean of ``a`` minus mean of ``b`` with Welch's 95 % interval and two-sided p-value.

    All None when either side has n < min_n (n = 0 always).  ``ci`` and ``p``
    are None when either side has n < 2 or both standard deviations are 0;
    ``p`` equals ``scipy.stats.ttest_ind(a, b, equal_var=False).pvalue``.
    """
    if type(min_n) is not int or min_n < 1:
        check_min_n(min_n)
    first = a if type(a) is Summary else summarise(a)
    second = b if type(b) is Summary else summarise(b)
    n1, n2 = first.n, second.n
    if n1 < min_n or n2 < min_n or n1 == 0 or n2 == 0:
        return NULL_GAP
    # Every figure is a ratio of exact integers, divided once (correctly rounded).
    scaled1, scaled2 = n1 * first.scale, n2 * second.scale
    difference = first.total * scaled2 - second.total * scaled1  # over scaled1 * scaled2
    value = difference / (scaled1 * scaled2)
    top_box_gap = (first.top * n2 - second.top * n1) / (n1 * n2)
    if n1 < 2 or n2 < 2:
        return GapStats(value=value, ci=None, p=None, top_box_gap=top_box_gap)
    # part_i = s_i^2 / n_i, each from exact integers by one correctly rounded division; the
    # Welch-Satterthwaite df, se and t from those floats (exact integers all the way measured a
    # third slower on a by-team report's 48,000 gaps, for digits beyond the 1e-13 that the
    # distribution functions keep anyway).
    spread1 = n1 * first.squares - first.total * first.total
    spread2 = n2 * second.squares - second.total * second.total
    if spread1 == 0 and spread2 == 0:
        return GapStats(value=value, ci=None, p=None, top_box_gap=top_box_gap)
    part1 = spread1 / (n1 * n1 * (n1 - 1) * first.scale * first.scale)
    part2 = spread2 / (n2 * n2 * (n2 - 1) * second.scale * second.scale)
    se_squared = part1 + part2
    df = se_squared * se_squared / (part1 * part1 / (n1 - 1) + part2 * part2 / (n2 - 1))
    se = math.sqrt(se_squared)
    p = min(1.0, 2.0 * t_sf_positive(abs(value) / se, df))
    critical = t975(df) if _Q == 0.975 else None
    half_width = (critical if critical is not None else t_ppf(_Q, df)) * se
    return GapStats(value, (value - half_width, value + half_width), p, top_box_gap)


def calibration(predicted: ScoreCounts | Summary | None, customers: ScoreCounts | Summary | None) -> float | None:
    """Mean of the staff's predicted customer scores minus the customers' mean.

    None when nobody predicted or no customer answered; the report also makes
    it None when customers or staff are suppressed.
    """
    guess, actual = summarise(predicted), summarise(customers)
    if guess.n == 0 or actual.n == 0:
        return None
    return _mean_difference(guess, actual)


def care_index(overall: ScoreCounts | Summary | None, *, min_n: int = 1) -> float | None:
    """Mean respondent score over all answered mirrored items, as (m - 1) / 4 * 100.

    None when fewer than ``min_n`` respondents (or none).
    """
    summary = summarise(overall)
    if summary.n < check_min_n(min_n) or summary.n == 0:
        return None
    # (mean - 1) * 25 as one correctly rounded integer division: the same float as converting the
    # exact fraction (a by-team report of 2,000 teams does this 6,000 times).
    denominator = summary.n * summary.scale
    return (summary.total - denominator) * 25 / denominator


def indifference_rate(customers_overall: ScoreCounts | Summary | None, *, min_n: int = 1) -> float | None:
    """Share of customers whose mean over all answered mirrored items is <= 2.0.

    None when fewer than ``min_n`` customer respondents (or none).
    """
    summary = summarise(customers_overall)
    if summary.n < check_min_n(min_n) or summary.n == 0:
        return None
    return summary.low / summary.n
