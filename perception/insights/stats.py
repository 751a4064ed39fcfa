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

from .distributions import t_ppf, t_sf
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
    """Exact sufficient statistics of a histogram.

    ``mean`` and ``top_box`` / ``low_box`` (shares with score >= 4 / <= 2) are
    ``None`` when n = 0; ``variance`` (sample, n - 1) is ``None`` when n < 2.
    """

    n: int
    mean: Fraction | None
    variance: Fraction | None
    top_box: Fraction | None
    low_box: Fraction | None


def summarise(counts: ScoreCounts | Summary | None) -> Summary:
    """Exact n, mean, sample variance, top-box and low-box shares of a histogram."""
    if isinstance(counts, Summary):
        return counts
    cleaned = clean_counts(counts)
    n = sum(cleaned.values())
    if n == 0:
        return Summary(0, None, None, None, None)
    scale = math.lcm(*(count for _, count in cleaned))
    first = second = top = low = 0
    for (total, count), frequency in cleaned.items():
        scaled = total * (scale // count)  # the score times ``scale``, an integer
        first += frequency * scaled
        second += frequency * scaled * scaled
        if total >= 4 * count:
            top += frequency
        if total <= 2 * count:
            low += frequency
    mean = Fraction(first, n * scale)
    variance = None
    if n >= 2:
        # sum((x - mean)^2) / (n - 1) = (n * sum(x^2) - sum(x)^2) / (n (n - 1)), in integers.
        variance = Fraction(n * second - first * first, n * (n - 1) * scale * scale)
    return Summary(n, mean, variance, Fraction(top, n), Fraction(low, n))


@dataclass(frozen=True)
class PerspectiveStats:
    """One perspective in one cell.  When ``suppressed`` every figure but ``n`` is None."""

    n: int
    mean: float | None
    sd: float | None
    ci: tuple[float, float] | None
    top_box: float | None
    suppressed: bool

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "ci": list(self.ci) if self.ci is not None else None,
            "top_box": self.top_box,
            "suppressed": self.suppressed,
        }


def suppressed_stats(n: int) -> PerspectiveStats:
    """The figures of a suppressed cell: ``n`` only."""
    return PerspectiveStats(n=n, mean=None, sd=None, ci=None, top_box=None, suppressed=True)


def check_min_n(min_n: int) -> int:
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"min_n must be an integer >= 1, got {min_n!r}")
    return min_n


def describe(counts: ScoreCounts | Summary | None, *, min_n: int = 1) -> PerspectiveStats:
    """n, mean, sd, 95 % t interval and top box; suppressed when n < min_n (n = 0 always)."""
    summary = summarise(counts)
    if summary.n < check_min_n(min_n) or summary.mean is None or summary.top_box is None:
        return suppressed_stats(summary.n)
    mean = float(summary.mean)
    sd = ci = None
    if summary.variance is not None:
        sd = math.sqrt(float(summary.variance))
        half_width = _critical_value(summary.n - 1) * sd / math.sqrt(summary.n)
        ci = (mean - half_width, mean + half_width)
    return PerspectiveStats(n=summary.n, mean=mean, sd=sd, ci=ci, top_box=float(summary.top_box), suppressed=False)


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
    check_min_n(min_n)
    first, second = summarise(a), summarise(b)
    if first.n < min_n or second.n < min_n or first.mean is None or second.mean is None:
        return NULL_GAP
    assert first.top_box is not None and second.top_box is not None
    difference = first.mean - second.mean
    value = float(difference)
    top_box_gap = float(first.top_box - second.top_box)
    if first.variance is None or second.variance is None:
        return GapStats(value=value, ci=None, p=None, top_box_gap=top_box_gap)
    part_a = first.variance / first.n
    part_b = second.variance / second.n
    se_squared = part_a + part_b
    if se_squared == 0:
        return GapStats(value=value, ci=None, p=None, top_box_gap=top_box_gap)
    # Welch-Satterthwaite degrees of freedom, exact until the final conversion.
    df = float(se_squared * se_squared / (part_a * part_a / (first.n - 1) + part_b * part_b / (second.n - 1)))
    se = math.sqrt(float(se_squared))
    t_abs = math.sqrt(float(difference * difference / se_squared))
    p = min(1.0, 2.0 * t_sf(t_abs, df))
    half_width = t_ppf(_Q, df) * se
    return GapStats(value=value, ci=(value - half_width, value + half_width), p=p, top_box_gap=top_box_gap)


def calibration(predicted: ScoreCounts | Summary | None, customers: ScoreCounts | Summary | None) -> float | None:
    """Mean of the staff's predicted customer scores minus the customers' mean.

    None when nobody predicted or no customer answered; the report also makes
    it None when customers or staff are suppressed.
    """
    guess, actual = summarise(predicted), summarise(customers)
    if guess.mean is None or actual.mean is None:
        return None
    return float(guess.mean - actual.mean)


def care_index(overall: ScoreCounts | Summary | None, *, min_n: int = 1) -> float | None:
    """Mean respondent score over all answered mirrored items, as (m - 1) / 4 * 100.

    None when fewer than ``min_n`` respondents (or none).
    """
    summary = summarise(overall)
    if summary.n < check_min_n(min_n) or summary.mean is None:
        return None
    # (mean - 1) * 25 as one correctly rounded integer division: the same float as converting the
    # Fraction, without Fraction arithmetic (a by-team report of 2,000 teams does this 6,000 times).
    mean = summary.mean
    return (mean.numerator - mean.denominator) * 25 / mean.denominator


def indifference_rate(customers_overall: ScoreCounts | Summary | None, *, min_n: int = 1) -> float | None:
    """Share of customers whose mean over all answered mirrored items is <= 2.0.

    None when fewer than ``min_n`` customer respondents (or none).
    """
    summary = summarise(customers_overall)
    if summary.n < check_min_n(min_n) or summary.low_box is None:
        return None
    return float(summary.low_box)
