"""Charts over the groups of a report: the team × dimension gap heatmap and the monthly care index."""

from __future__ import annotations

from .base import (
    COLOURS,
    MUTED,
    PERSPECTIVE_LABELS,
    PERSPECTIVES,
    SYMBOLS,
    Chart,
    Table,
    esc,
    gap_text,
    layout,
    number,
    withheld,
)

# ColorBrewer PuOr with light ends, so dark cell text stays readable: orange = staff above customers.
GAP_SCALE = [[0.0, "#998ec3"], [0.5, "#f7f7f7"], [1.0, "#f1a340"]]
WITHHELD_GREY = "#d4d7dd"


def _wrap(name: str) -> str:
    """Break a long column name over two lines (escaped first: the <br> is ours)."""
    words = esc(name).split(" ")
    if len(name) <= 12 or len(words) < 2:
        return esc(name)
    middle = (len(words) + 1) // 2
    return " ".join(words[:middle]) + "<br>" + " ".join(words[middle:])


def _lines(text, width=14):
    """Short lines for a heatmap cell (plotly does not wrap cell text)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(esc(part) for part in [*lines, line])


def _gap_reason(cell, min_n):
    side, who = (cell.customer, "customers") if cell.customer.suppressed else (cell.staff, "staff")
    return withheld(side.n, min_n), who


def team_heatmap(report) -> Chart:
    """(d) Staff − customer gap per team and dimension; withheld cells are grey with the reason."""
    groups = list(report.groups)
    names = [cell.name for cell in report.dimensions]
    values, texts, data, grey, grey_text = [], [], [], [], []
    for group in groups:
        row_values, row_texts, row_data, row_grey, row_grey_text = [], [], [], [], []
        for cell in group.dimensions:
            value = cell.gap.value
            if value is None:
                reason, who = _gap_reason(cell, report.min_n)
                row_values.append(None)
                row_texts.append("")
                row_grey.append(0)
                row_grey_text.append(_lines(reason))
                row_data.append([esc(group.label), esc(cell.name), f"{esc(reason)} ({who})"])
            else:
                row_values.append(value)
                row_texts.append(number(value, signed=True))
                row_grey.append(None)
                row_grey_text.append("")
                row_data.append([esc(group.label), esc(cell.name), esc(gap_text(cell.gap, cell.staff, cell.customer,
                                                                              report.min_n))])
        values.append(row_values)
        texts.append(row_texts)
        data.append(row_data)
        grey.append(row_grey)
        grey_text.append(row_grey_text)

    shown = [abs(v) for row in values for v in row if v is not None]
    limit = max([0.5, *shown])
    x, y = list(range(len(names))), list(range(len(groups)))
    hover = "<b>%{customdata[0]}</b>, %{customdata[1]}<br>Staff − customers: %{customdata[2]}<extra></extra>"
    traces = [
        {"type": "heatmap", "x": x, "y": y, "z": grey, "text": grey_text, "texttemplate": "%{text}",
         "textfont": {"color": "#1d2433", "size": 11}, "colorscale": [[0, WITHHELD_GREY], [1, WITHHELD_GREY]],
         "showscale": False, "customdata": data, "hovertemplate": hover, "name": "withheld", "xgap": 2, "ygap": 2},
        {"type": "heatmap", "x": x, "y": y, "z": values, "text": texts, "texttemplate": "%{text}",
         "textfont": {"color": "#1d2433", "size": 13}, "colorscale": [list(stop) for stop in GAP_SCALE],
         "zmin": -limit, "zmax": limit, "zmid": 0, "customdata": data, "hovertemplate": hover,
         "name": "Staff − customers", "xgap": 2, "ygap": 2,
         "colorbar": {"title": {"text": "Staff −<br>customers<br>(points)"}, "thickness": 14}},
    ]
    look = layout("Gap by team and dimension: staff score minus customer score (points on the 1–5 scale)",
                  "Dimension of care", "Team", height=190 + 56 * max(1, len(groups)))
    look["xaxis"] |= {"tickmode": "array", "tickvals": x, "ticktext": [_wrap(name) for name in names],
                      "showgrid": False, "side": "bottom", "tickfont": {"size": 12}}
    look["yaxis"] |= {"tickmode": "array", "tickvals": y, "ticktext": [esc(group.label) for group in groups],
                      "range": [len(groups) - 0.5, -0.5], "showgrid": False}
    table = Table(
        "Staff score minus customer score per team and dimension, in points on the 1–5 scale",
        ("Team", *names),
        tuple(
            (group.label, *(gap_text(cell.gap, cell.staff, cell.customer, report.min_n) for cell in group.dimensions))
            for group in groups
        ),
    )
    empty = None
    if not groups:
        empty = "No teams yet. Add teams and invite their customers to compare teams."
    elif not shown:
        empty = (f"No team has enough responses to compare yet: a team needs at least {report.min_n} customers "
                 f"and {report.min_n} staff respondents.")
    return Chart(
        "teams", "Gap by team",
        "Heatmap of the staff minus customer gap for each team and dimension; grey cells are withheld.",
        {"data": traces, "layout": look}, table, empty, wide=True,
    )


def _index_text(group, p, min_n):
    value = group.care_index[p]
    n = group.respondents.get(p, 0)
    if value is not None:
        return f"{value:.0f} (n = {n})"
    return "no responses" if n == 0 else withheld(n, min_n)


def care_trend_chart(report) -> Chart:
    """(e) Each perspective's care index (0–100) by month; months with too few responses are marked."""
    groups = list(report.groups)
    months = [esc(group.label) for group in groups]
    traces = []
    drawn = 0
    gaps_x, gaps_y, gaps_text = [], [], []
    for p in PERSPECTIVES:
        ys = [group.care_index[p] for group in groups]
        drawn += sum(value is not None for value in ys)
        traces.append({
            "type": "scatter", "x": months, "y": ys, "mode": "lines+markers", "name": PERSPECTIVE_LABELS[p],
            "connectgaps": False,
            "line": {"color": COLOURS[p], "width": 2.5, "dash": {"customer": "solid", "staff": "dash",
                                                                   "leader": "dot"}[p]},
            "marker": {"color": COLOURS[p], "symbol": SYMBOLS[p], "size": 9},
            "hovertemplate": f"%{{x}}<br>{PERSPECTIVE_LABELS[p]}: care index %{{y:.0f}}<extra></extra>",
        })
        for group, value in zip(groups, ys, strict=True):
            n = group.respondents.get(p, 0)
            if value is None and n > 0:
                gaps_x.append(esc(group.label))
                gaps_y.append(2)
                gaps_text.append(f"{esc(group.label)}, {PERSPECTIVE_LABELS[p]}: {withheld(n, report.min_n)}")
    if gaps_x:
        traces.append({
            "type": "scatter", "x": gaps_x, "y": gaps_y, "mode": "markers", "name": "Withheld (too few responses)",
            "text": gaps_text,
            "marker": {"color": MUTED, "symbol": "x-thin-open", "size": 10, "line": {"width": 2, "color": MUTED}},
            "hovertemplate": "%{text}<extra></extra>",
        })
    look = layout("Care index by month (0 = strongly disagree on everything, 100 = strongly agree)",
                  "Month (UTC)", "Care index (0–100)", height=420)
    look["xaxis"]["type"] = "category"
    look["yaxis"]["range"] = [0, 100]
    table = Table(
        "Care index (0–100) per month and perspective, with the number of respondents",
        ("Month", *PERSPECTIVE_LABELS.values()),
        tuple((group.label, *(_index_text(group, p, report.min_n) for p in PERSPECTIVES)) for group in groups),
    )
    empty = None
    if not groups:
        empty = "No responses in this period yet, so there is no trend to show."
    elif not drawn:
        empty = f"No month has {report.min_n} or more respondents from any perspective yet."
    return Chart(
        "trend", "Care index over time",
        "Line chart of the customers', staff's and leaders' care index for each month.",
        {"data": traces, "layout": look}, table, empty,
    )
