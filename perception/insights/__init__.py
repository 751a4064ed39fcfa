"""Gap statistics and the gap report: pure Python, standard library only, no Flask.

One definition of every figure (DESIGN section 2), used by the dashboard, the
API, the CLI and the exports.  Plain data in (survey structure and score
histograms, see ``inputs``), frozen dataclasses out (``report``).

Modules:

* ``distributions``: Student's t CDF, survival function and quantile.
* ``inputs``: ``DimensionSpec``, ``ItemSpec``, ``GroupInput``, score histograms.
* ``stats``: ``describe``, ``welch_gap``, ``calibration``, ``care_index``,
  ``indifference_rate`` on one histogram or two.
* ``suppression``: the anonymity rules (small cells, complementary suppression).
* ``report``: ``build_gap_report`` and the Gap JSON.
* ``drivers``: key drivers (importance x performance), ``build_driver_report``; from sums
  (``correlation``), with beta and Johnson's relative weights (``weights``, ``relative_weights``).
* ``multiple``: Benjamini–Hochberg adjusted p-values (``benjamini_hochberg``) and
  ``adjust_report``, which sets them on every gap of a gap report.
* ``mirror``: a staff member's personal mirror, ``build_mirror``.
* ``board``: suggested support/erode tags for comments, ``suggest_tags``.
* ``trend``: the change of a figure since the previous wave (``mean_change``, ``gap_change``).
* ``publication``: answers enter the figures in batches of ``min_n`` (``batches``) and the
  sentence that says how many wait (``waiting_sentence``).
"""

from .allocation import gc_paused
from .board import EFFECTS, Moment, Suggestion, rank_moments, suggest_tags
from .distributions import t_cdf, t_pdf, t_ppf, t_sf
from .drivers import (
    DRIVER_MIN_N,
    OUTCOMES,
    QUADRANTS,
    CrossProducts,
    DriverCell,
    DriverReport,
    Moments,
    RelativeImportance,
    build_driver_report,
    pearson,
)
from .inputs import (
    PERSPECTIVES,
    DimensionSpec,
    GroupInput,
    ItemSpec,
    Response,
    ScoreCounts,
    group_input_from_responses,
    histogram,
)
from .mirror import Mirror, MirrorRow, build_mirror
from .moments import merge_summaries, summary_from_moments
from .multiple import adjust_report, benjamini_hochberg
from .publication import answer_pattern, batches, batches_by_pattern, waiting_sentence
from .relative_weights import relative_weights, symmetric_eigen, weight_intervals
from .report import GROUP_BY, CellReport, GapReport, GroupReport, build_gap_report
from .stats import (
    GapStats,
    PerspectiveStats,
    Summary,
    calibration,
    care_index,
    describe,
    indifference_rate,
    summarise,
    welch_gap,
)
from .suppression import complementary_suppression
from .trend import NULL_CHANGE, Change, difference, gap_change, mean_change, welch_contrast

__all__ = [
    "gc_paused",
    "merge_summaries",
    "summary_from_moments",
    "NULL_CHANGE",
    "Change",
    "difference",
    "gap_change",
    "mean_change",
    "welch_contrast",
    "adjust_report",
    "answer_pattern",
    "benjamini_hochberg",
    "DRIVER_MIN_N",
    "EFFECTS",
    "GROUP_BY",
    "OUTCOMES",
    "QUADRANTS",
    "CrossProducts",
    "DriverCell",
    "DriverReport",
    "Mirror",
    "MirrorRow",
    "Moment",
    "Moments",
    "RelativeImportance",
    "Suggestion",
    "batches",
    "batches_by_pattern",
    "build_driver_report",
    "build_mirror",
    "pearson",
    "rank_moments",
    "relative_weights",
    "symmetric_eigen",
    "weight_intervals",
    "suggest_tags",
    "PERSPECTIVES",
    "CellReport",
    "DimensionSpec",
    "GapReport",
    "GapStats",
    "GroupInput",
    "GroupReport",
    "ItemSpec",
    "PerspectiveStats",
    "Response",
    "ScoreCounts",
    "Summary",
    "build_gap_report",
    "calibration",
    "care_index",
    "complementary_suppression",
    "describe",
    "group_input_from_responses",
    "histogram",
    "indifference_rate",
    "summarise",
    "t_cdf",
    "t_pdf",
    "t_ppf",
    "t_sf",
    "waiting_sentence",
    "welch_gap",
]
