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
"""

from .distributions import t_cdf, t_pdf, t_ppf, t_sf
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

__all__ = [
    "GROUP_BY",
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
    "welch_gap",
]
