"""The key-driver matrix: importance (Johnson's relative weight when the report has them, else the
correlation with the outcome) against performance (customers' mean).

Every number comes from a `perception.insights.DriverReport`. The dashed lines sit at the mean
importance and the mean performance of the dimensions shown. "Fix first" marks only dimensions
whose importance stands out (its interval clears the others'), and which score lower than most;
a point above the line that does not stand out is not named.
"""

from __future__ import annotations

from ..insights import QUADRANTS
from .base import MUTED, Chart, Table, esc, layout, number

# Okabe-Ito, with a different marker shape per quadrant so colour is never the only cue.
QUADRANT_STYLE = {
    "fix_first": ("#D55E00", "triangle-up"),
    "strength": ("#009E73", "circle"),
    "watch": ("#E69F00", "square"),
    "maintain": ("#0072B2", "diamond"),
}
QUADRANT_HINTS = {
    "fix_first": "clearly matters more, scores lower",
    "strength": "clearly matters more, scores higher",
    "watch": "no clear lead, scores lower",
    "maintain": "no clear lead, scores higher",
}


def quadrant_label(quadrant) -> str:
    if quadrant is None:
        return "—"
    return f"{QUADRANTS[quadrant]} ({QUADRANT_HINTS[quadrant]})"


def _importance_text(cell) -> str:
    if cell.importance is None:
        return f"not shown: {cell.note}"
    text = number(cell.importance)
    if cell.interval is not None:
        text += f" (95% CI {number(cell.interval[0])} to {number(cell.interval[1])})"
    return text


def _relative_text(cell) -> str:
    if cell.relative_weight is None:
        return "—"
    text = number(cell.relative_weight, digits=3)
    if cell.weight_interval is not None:
        text += f" (95% CI {number(cell.weight_interval[0], digits=3)} to {number(cell.weight_interval[1], digits=3)})"
    return text


def _table(report) -> Table:
    columns = ["Dimension", "Importance r", "Stands out", "Customers (n)", "Customers' mean (1–5)", "Corner"]
    if report.weights.values:
        columns.insert(2, "Weight β")
    if report.by_weights:
        columns.insert(2, "Relative weight")
    rows = []
    for cell in report.cells:
        row = [cell.name, _importance_text(cell), "yes" if cell.stands_out else "no", str(cell.n),
               number(cell.performance) if cell.performance is not None else "—", quadrant_label(cell.quadrant)]
        if report.weights.values:
            row.insert(2, number(cell.weight) if cell.weight is not None else "—")
        if report.by_weights:
            row.insert(2, _relative_text(cell))
        rows.append(tuple(row))
    caption = (f"Importance (correlation of each dimension with customers' {report.outcome_label}"
               f"{', and its relative weight: its share of R²' if report.by_weights else ''}) "
               f"and performance (customers' mean score) per dimension")
    return Table(caption, tuple(columns), tuple(rows))


def driver_matrix(report) -> Chart:
    """Importance × performance scatter with the four corners named; empty when too few customers."""
    traces = []
    placed = [cell for cell in report.cells if cell.quadrant is not None]
    for quadrant, (colour, symbol) in QUADRANT_STYLE.items():
        cells = [cell for cell in placed if cell.quadrant == quadrant]
        if not cells:
            continue
        traces.append({
            "type": "scatter", "x": [cell.performance for cell in cells],
            "y": [cell.placed_at(report.by_weights) for cell in cells],
            "mode": "markers+text", "name": f"{QUADRANTS[quadrant]}: {QUADRANT_HINTS[quadrant]}",
            "text": [esc(cell.name) for cell in cells], "textposition": "top center",
            "customdata": [[esc(cell.name), cell.n, number(cell.weight) if cell.weight is not None else "—",
                            number(cell.importance), _relative_text(cell)] for cell in cells],
            "marker": {"color": colour, "symbol": symbol, "size": 13, "line": {"color": "#ffffff", "width": 1}},
            "hovertemplate": "<b>%{customdata[0]}</b><br>Correlation r = %{customdata[3]}"
                             "<br>Relative weight = %{customdata[4]}<br>Customers' mean = %{x:.2f}"
                             "<br>Weight β = %{customdata[2]}<br>n = %{customdata[1]}<extra></extra>",
        })
    title = f"Key drivers of customers' {report.outcome_label}: importance and performance"
    axis = ("Importance: relative weight (share of R²)" if report.by_weights
            else f"Importance: correlation with {report.outcome_label}")
    look = layout(title, "Performance: customers' mean score (1–5)", axis, height=520)
    if placed:
        xs = [cell.performance for cell in placed]
        ys = [cell.placed_at(report.by_weights) for cell in placed]
        pad_x = max(0.15, (max(xs) - min(xs)) * 0.15)
        pad_y = max(0.01 if report.by_weights else 0.05, (max(ys) - min(ys)) * 0.2)
        look["xaxis"]["range"] = [min(xs) - pad_x, max(xs) + pad_x]
        look["yaxis"]["range"] = [min(ys) - pad_y, max(ys) + pad_y]
        dashed = {"color": MUTED, "dash": "dash", "width": 1}
        look["shapes"] = [
            {"type": "line", "line": dashed, "x0": report.split_performance, "x1": report.split_performance,
             "y0": 0, "y1": 1, "xref": "x", "yref": "paper"},
            {"type": "line", "line": dict(dashed), "y0": report.split_importance, "y1": report.split_importance,
             "x0": 0, "x1": 1, "yref": "y", "xref": "paper"},
        ]
    empty = None
    if report.hidden_reason:
        empty = report.hidden_reason
    elif not placed:
        empty = "Too few dimensions have both an importance and a customers' mean to draw the matrix yet."
    measure = ("relative weight for" if report.by_weights else "correlation with")
    description = (f"Scatter plot of each dimension's importance ({measure} customers' "
                   f"{report.outcome_label}) against its performance (customers' mean). {report.sentence()}")
    return Chart("drivers", title, description, {"data": traces, "layout": look}, _table(report), empty)
