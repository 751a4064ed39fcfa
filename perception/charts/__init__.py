"""Plotly figures of the gap report: insight results in, figures out.

Pure functions (no database, no Flask, no statistics): every number drawn comes from a
`perception.insights` GapReport, or for the Likert bars from plain answer counts. Each builder
returns a `Chart`: the figure plus the same data as a `Table`, rendered beneath the figure as
its text alternative. Suppressed values appear as "fewer than N responses", never as numbers.

plotly.js renders a subset of HTML in labels and hover text, so names from the database are
HTML-escaped inside figures (plotly.js turns the entities back into the typed characters);
user text never goes into a hovertemplate (which would expand "%{...}"): it travels in
`customdata`. `Chart.json()` is safe to place inside <script type="application/json">.
"""

from .base import COLOURS, PERSPECTIVE_LABELS, Chart, Table, figure_json
from .dimensions import calibration_chart, delivery_gap_chart, means_chart
from .distribution import LIKERT_COLOURS, LIKERT_LABELS, likert_chart, short_label
from .groups import care_trend_chart, team_heatmap

__all__ = [
    "COLOURS",
    "LIKERT_COLOURS",
    "LIKERT_LABELS",
    "PERSPECTIVE_LABELS",
    "Chart",
    "Table",
    "calibration_chart",
    "care_trend_chart",
    "delivery_gap_chart",
    "figure_json",
    "likert_chart",
    "means_chart",
    "short_label",
    "team_heatmap",
]
