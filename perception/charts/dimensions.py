"""Charts with one row per dimension of care: means, delivery gap, calibration."""

from __future__ import annotations

from .base import (
    COLOURS,
    PERSPECTIVE_LABELS,
    PERSPECTIVES,
    SYMBOLS,
    Chart,
    Table,
    cell_text,
    esc,
    gap_text,
    layout,
    mean_ci,
    not_enough,
    number,
    percent,
    rows_axis,
    withheld,
    withheld_labels,
)

# Perspectives sit a little above and below the dimension's line so their intervals never overlap.
OFFSETS = {"customer": -0.22, "staff": 0.0, "leader": 0.22}
SCORE_AXIS = "Mean score (1 = strongly disagree, 5 = strongly agree)"


def _gaps(cell):
    return {"customer": None, "staff": cell.gap, "leader": cell.leader_gap}


def means_chart(report) -> Chart:
    """(a) Each perspective's mean per dimension with its 95 % confidence interval."""
    traces = []
    withheld_at, reasons, drawn = [], [], 0
    for p in PERSPECTIVES:
        xs, ys, plus, minus, data = [], [], [], [], []
        for row, cell in enumerate(report.dimensions):
            stats = getattr(cell, p)
            if stats.suppressed:
                withheld_at.append((1.0, row + OFFSETS[p]))
                reasons.append(f"{PERSPECTIVE_LABELS[p]}: {withheld(stats.n, report.min_n)}")
                continue
            low, high = stats.ci if stats.ci is not None else (stats.mean, stats.mean)
            xs.append(stats.mean)
            ys.append(row + OFFSETS[p])
            plus.append(high - stats.mean)
            minus.append(stats.mean - low)
            data.append([esc(cell.name), stats.n, mean_ci(stats)])
        drawn += len(xs)
        traces.append({
            "type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": PERSPECTIVE_LABELS[p], "customdata": data,
            "marker": {"color": COLOURS[p], "symbol": SYMBOLS[p], "size": 11,
                       "line": {"color": "#ffffff", "width": 1}},
            "error_x": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                        "color": COLOURS[p], "thickness": 1.5, "width": 4},
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>{PERSPECTIVE_LABELS[p]}: %{{customdata[2]}}"
                             "<br>n = %{customdata[1]}<extra></extra>",
        })
    withheld_labels(traces, withheld_at, reasons)
    look = layout("Mean score per dimension, with 95% confidence intervals", SCORE_AXIS, "Dimension of care",
                  height=140 + 48 * max(1, len(report.dimensions)))
    look["xaxis"] |= {"range": [0.9, 5.1], "dtick": 1}
    rows_axis(look, [cell.name for cell in report.dimensions])
    table = Table(
        "Mean score (95% confidence interval) per dimension and perspective, and the gaps in points",
        ("Dimension", *PERSPECTIVE_LABELS.values(), "Staff − customers", "Leaders − customers"),
        tuple(
            (cell.name, *(cell_text(getattr(cell, p), report.min_n, mean_ci) for p in PERSPECTIVES),
             gap_text(cell.gap, cell.staff, cell.customer, report.min_n),
             gap_text(cell.leader_gap, cell.leader, cell.customer, report.min_n, "leaders"))
            for cell in report.dimensions
        ),
    )
    return Chart(
        "means", "How each perspective rates each dimension",
        "Dot plot of the customers', staff's and leaders' mean score per dimension with 95% confidence intervals.",
        {"data": traces, "layout": look}, table, None if drawn else not_enough(report.min_n),
    )


def _points_vs_customers(gap) -> str:
    if gap is None or gap.top_box_gap is None:
        return ""
    return f"{number(gap.top_box_gap * 100, signed=True, digits=0)} percentage points vs customers"


def delivery_gap_chart(report) -> Chart:
    """(b) Share rating a dimension 4 or higher, per perspective: the delivery gap."""
    traces = []
    withheld_at, reasons, drawn = [], [], 0
    for p in PERSPECTIVES:
        xs, ys, data = [], [], []
        for row, cell in enumerate(report.dimensions):
            stats = getattr(cell, p)
            if stats.suppressed:
                withheld_at.append((0.0, row + OFFSETS[p]))
                reasons.append(f"{PERSPECTIVE_LABELS[p]}: {withheld(stats.n, report.min_n)}")
                continue
            xs.append(stats.top_box * 100)
            ys.append(row + OFFSETS[p])
            data.append([esc(cell.name), stats.n, _points_vs_customers(_gaps(cell)[p])])
        drawn += len(xs)
        traces.append({
            "type": "bar", "x": xs, "y": ys, "orientation": "h", "width": 0.2, "name": PERSPECTIVE_LABELS[p],
            "customdata": data, "marker": {"color": COLOURS[p]},
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>{PERSPECTIVE_LABELS[p]}: %{{x:.0f}}% score 4 or higher"
                             "<br>%{customdata[2]}<br>n = %{customdata[1]}<extra></extra>",
        })
    withheld_labels(traces, withheld_at, reasons)
    look = layout("Delivery gap: share scoring 4 or higher (agree or strongly agree)",
                  "Respondents whose score on the dimension is 4 or higher (%)", "Dimension of care",
                  height=140 + 52 * max(1, len(report.dimensions)), barmode="overlay")
    look["xaxis"] |= {"range": [0, 100], "ticksuffix": "%"}
    rows_axis(look, [cell.name for cell in report.dimensions])
    table = Table(
        "Share of respondents scoring each dimension 4 or higher, and the difference from customers",
        ("Dimension", *PERSPECTIVE_LABELS.values(), "Staff − customers", "Leaders − customers"),
        tuple(
            (cell.name,
             *(cell_text(getattr(cell, p), report.min_n, lambda s: percent(s.top_box)) for p in PERSPECTIVES),
             *(_top_box_gap_text(_gaps(cell)[p], getattr(cell, p), cell.customer, report.min_n)
               for p in ("staff", "leader")))
            for cell in report.dimensions
        ),
    )
    return Chart(
        "delivery", "Delivery gap",
        "Bar chart of the share of customers, staff and leaders scoring each dimension 4 or higher.",
        {"data": traces, "layout": look}, table, None if drawn else not_enough(report.min_n),
    )


def _top_box_gap_text(gap, other, customer, min_n):
    if gap.top_box_gap is None:
        side = customer if customer.suppressed else other
        return withheld(side.n, min_n)
    return f"{number(gap.top_box_gap * 100, signed=True, digits=0)} percentage points"


def _calibration_missing(cell, min_n):
    if cell.customer.suppressed:
        return f"Customers: {withheld(cell.customer.n, min_n)}"
    if cell.staff.suppressed:
        return f"Staff: {withheld(cell.staff.n, min_n)}"
    return "No staff predictions yet"


def calibration_chart(report) -> Chart:
    """(f) What staff predicted customers would say, next to what customers said."""
    said, predicted, line_x, line_y, withheld_at, reasons = [], [], [], [], [], []
    for row, cell in enumerate(report.dimensions):
        if cell.calibration is None:
            withheld_at.append((1.0, row))
            reasons.append(_calibration_missing(cell, report.min_n))
            continue
        guess = cell.customer.mean + cell.calibration  # calibration = predicted mean − customers' mean
        extra = [esc(cell.name), number(cell.calibration, signed=True)]
        said.append((cell.customer.mean, row, extra))
        predicted.append((guess, row, extra))
        line_x += [cell.customer.mean, guess, None]
        line_y += [row, row, None]
    traces = [{"type": "scatter", "x": line_x, "y": line_y, "mode": "lines", "line": {"color": "#9aa3b2", "width": 3},
               "hoverinfo": "skip", "showlegend": False, "name": "connector"}]
    for label, marks, colour, symbol in (("Customers said", said, COLOURS["customer"], "circle"),
                                         ("Staff predicted", predicted, COLOURS["staff"], "diamond")):
        traces.append({
            "type": "scatter", "x": [x for x, _, _ in marks], "y": [y for _, y, _ in marks],
            "customdata": [c for _, _, c in marks], "mode": "markers", "name": label,
            "marker": {"color": colour, "symbol": symbol, "size": 12},
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>{label}: %{{x:.2f}}"
                             "<br>Prediction − customers: %{customdata[1]}<extra></extra>",
        })
    withheld_labels(traces, withheld_at, reasons)
    look = layout("Calibration: what staff predicted customers would say, and what they said",
                  SCORE_AXIS, "Dimension of care", height=140 + 40 * max(1, len(report.dimensions)))
    look["xaxis"] |= {"range": [0.9, 5.1], "dtick": 1}
    rows_axis(look, [cell.name for cell in report.dimensions])
    table = Table(
        "Staff's predictions of customers' answers compared with customers' answers (mean scores)",
        ("Dimension", "Customers said", "Staff predicted", "Prediction − customers"),
        tuple(
            (cell.name, number(cell.customer.mean), number(cell.customer.mean + cell.calibration),
             number(cell.calibration, signed=True))
            if cell.calibration is not None
            else (cell.name, cell_text(cell.customer, report.min_n, lambda s: number(s.mean)),
                  _calibration_missing(cell, report.min_n), "—")
            for cell in report.dimensions
        ),
    )
    empty = None if said else (
        f"No calibration yet: it needs staff predictions and at least {report.min_n} customer and "
        f"{report.min_n} staff respondents on a dimension."
    )
    return Chart(
        "calibration", "Calibration",
        "Dot plot of staff's predicted customer score next to the customers' actual score per dimension.",
        {"data": traces, "layout": look}, table, empty,
    )
