"""Change between two waves (issue #16): how a figure moved since the previous wave, with its
interval and p-value. Pure Python; the waves' figures come from two gap reports (``report``).

Two waves are answered by different respondents, so their samples are treated as independent.

* ``welch_contrast``: a difference of independent sample means (or of differences of them) with a
  Welch-type standard error ``sqrt(sum(s_i^2 / n_i))`` over every sample involved and the
  Welch-Satterthwaite degrees of freedom ``(sum v_i)^2 / sum(v_i^2 / (n_i - 1))``, ``v_i = s_i^2 / n_i``.
  With two samples it is Welch's t-test (``scipy.stats.ttest_ind_from_stats(equal_var=False)``).
* ``mean_change``: the customers' mean on a dimension, this wave minus the previous one: Welch's
  test on the two waves' customer summaries.
* ``gap_change``: the staff - customer gap, this wave minus the previous one. The change is
  ``(S2 - C2) - (S1 - C1)`` over four independent samples; its standard error combines both gaps'
  Welch standard errors, ``sqrt(s_S2^2/n_S2 + s_C2^2/n_C2 + s_S1^2/n_S1 + s_C1^2/n_C1)``, with the
  Satterthwaite degrees of freedom over the four samples (``welch_contrast``).
* ``difference``: a plain difference of two figures (care index, delivery gap, response rate),
  with no test: those are shown for reading, not tested.

A change involving a suppressed side (or a missing figure) is ``None`` / ``NULL_CHANGE``: nothing
is published that the gap reports withheld.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .distributions import t_ppf, t_sf
from .stats import CONFIDENCE, PerspectiveStats

__all__ = ["NULL_CHANGE", "Change", "difference", "gap_change", "mean_change", "welch_contrast"]

_Q = 1.0 - (1.0 - CONFIDENCE) / 2.0


@dataclass(frozen=True)
class Change:
    """A change since the previous wave: ``value`` with its 95 % ``ci`` and two-sided ``p``."""

    value: float | None
    ci: tuple[float, float] | None
    p: float | None

    def to_dict(self) -> dict:
        return {"value": self.value, "ci": list(self.ci) if self.ci is not None else None, "p": self.p}


NULL_CHANGE = Change(value=None, ci=None, p=None)


def welch_contrast(value: float, samples: Sequence[tuple[float | None, int]]) -> Change:
    """``value`` (a signed sum of independent sample means) with its Welch-type 95 % interval and
    two-sided p-value; ``samples`` are the (sd, n) of every sample in the sum. ``ci`` and ``p``
    are None when a sample has n < 2 (no sd) or every sd is 0."""
    if any(sd is None or n < 2 for sd, n in samples):
        return Change(value=value, ci=None, p=None)
    parts = [sd * sd / n for sd, n in samples]
    se_squared = sum(parts)
    if se_squared <= 0:
        return Change(value=value, ci=None, p=None)
    df = se_squared * se_squared / sum(part * part / (n - 1) for part, (_sd, n) in zip(parts, samples, strict=True))
    se = math.sqrt(se_squared)
    p = min(1.0, 2.0 * t_sf(abs(value) / se, df))
    half_width = t_ppf(_Q, df) * se
    return Change(value=value, ci=(value - half_width, value + half_width), p=p)


def _shown(stats: PerspectiveStats) -> bool:
    return not stats.suppressed and stats.mean is not None


def mean_change(before: PerspectiveStats, after: PerspectiveStats) -> Change:
    """``after.mean - before.mean`` with Welch's interval and p-value; NULL_CHANGE when either is withheld."""
    if not (_shown(before) and _shown(after)):
        return NULL_CHANGE
    assert before.mean is not None and after.mean is not None
    return welch_contrast(after.mean - before.mean, [(after.sd, after.n), (before.sd, before.n)])


def gap_change(before_gap: float | None, before: tuple[PerspectiveStats, PerspectiveStats],
               after_gap: float | None, after: tuple[PerspectiveStats, PerspectiveStats]) -> Change:
    """The gap of ``after`` minus the gap of ``before``; each wave given as its gap value and its
    (other perspective, customers) stats. NULL_CHANGE when either gap is withheld."""
    if before_gap is None or after_gap is None or not all(_shown(side) for side in (*before, *after)):
        return NULL_CHANGE
    return welch_contrast(after_gap - before_gap, [(side.sd, side.n) for side in (*after, *before)])


def difference(before: float | None, after: float | None) -> float | None:
    """``after - before``, or None when either is withheld."""
    if before is None or after is None:
        return None
    return after - before
