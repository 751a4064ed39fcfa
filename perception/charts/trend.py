"""Charts of the care gap across waves (the trend document of perception.reports.trend_queries):
a slope chart per dimension (customers' and staff means, wave by wave), small multiples of the
care index per team, and the care index of the whole selection. Each with its table.

A withheld figure is a break in its line and the reason in its table cell, never a number.
"""

from __future__ import annotations

from .base import (
    COLOURS,
    PERSPECTIVE_LABELS,
    PERSPECTIVES,
    SYMBOLS,
    Chart,
    Table,
    axes_of,
    esc,
    layout,
    number,
    percent,
)

COLUMNS = 2


def _withheld(stats, min_n):
    if stats["n"] == 0:
        return "no responses"
    return f"fewer than {min_n} responses" if stats["n"] < min_n else "withheld to protect a smaller group"


def _mean_text(stats, min_n):
    if stats["mean"] is None:
        return _withheld(stats, min_n)
    text = number(stats["mean"])
    if stats["ci"] is not None:
        text += f" (95% CI {number(stats['ci'][0])}–{number(stats['ci'][1])})"
    return f"{text}, n = {stats['n']}"


def _p_text(test):
    if test["p"] is None:
        return ""
    raw = "p < 0.001" if test["p"] < 0.001 else f"p = {test['p']:.3f}"
    return f", {raw}, adjusted {test['p_adjusted']:.3f}"


def change_text(test):
    """A change with its interval and raw and adjusted p-values, or a dash when withheld."""
    if test["value"] is None:
        return "—"
    text = number(test["value"], signed=True)
    if test["ci"] is not None:
        text += f" (95% CI {number(test['ci'][0], signed=True)} to {number(test['ci'][1], signed=True)}"
        text += f"{_p_text(test)})"
    return text


def _gap_text(gap):
    if gap["value"] is None:
        return "withheld"
    text = number(gap["value"], signed=True)
    if gap["ci"] is not None:
        text += f" (95% CI {number(gap['ci'][0], signed=True)} to {number(gap['ci'][1], signed=True)})"
    return text


def _grid(count):
    rows = max(1, (count + COLUMNS - 1) // COLUMNS)
    return rows, min(COLUMNS, max(count, 1))


def _subplots(rows, columns, titles):
    """A grid of small charts, top left first, one y range per row: (axes, title annotations,
    [(x, y) axis references of each cell]). The domains and titles are those plotly's
    make_subplots(rows, columns, subplot_titles=titles, shared_yaxes=True) computes, to the last bit."""
    column_spacing = 0.2 / columns
    row_spacing = 0.6 / rows if rows > 1 else 0.2
    width = (1.0 - column_spacing * (columns - 1)) / columns
    height = (1.0 - row_spacing * (rows - 1)) / rows
    axes, annotations, cells = {}, [], []
    for row in range(rows):
        below = rows - 1 - row  # rows under this one: the domains count from the bottom
        bottom = sum([height] * below) + below * row_spacing
        y_domain = [min(max(bottom, 0.0), 1.0), min(max(bottom + height, 0.0), 1.0)]
        for column in range(columns):
            suffix = str(len(cells) + 1) if cells else ""  # plotly's axis names: x, x2, x3 ...
            left = sum([width] * column) + column * column_spacing
            x_domain = [left, left + width]
            axes[f"xaxis{suffix}"] = {"domain": x_domain, "anchor": f"y{suffix}"}
            axes[f"yaxis{suffix}"] = {"domain": list(y_domain), "anchor": f"x{suffix}"}
            if column > 0:  # the row shares the first chart's y axis; only that one shows tick labels
                axes[f"yaxis{suffix}"] |= {"matches": cells[-column][1], "showticklabels": False}
            cells.append((f"x{suffix}", f"y{suffix}"))
            if len(cells) <= len(titles) and titles[len(cells) - 1]:
                annotations.append({
                    "y": y_domain[1], "xref": "paper", "x": sum(x_domain) / 2.0, "yref": "paper",
                    "text": titles[len(cells) - 1], "showarrow": False, "font": {"size": 16},
                    "xanchor": "center", "yanchor": "bottom",
                })
    return axes, annotations, cells


def _empty(waves):
    if len(waves) < 1:
        return "No wave has been opened yet."
    return None


def dimension_slopes(document, waves) -> Chart:
    """One small slope chart per dimension: customers' and staff means per wave."""
    min_n = document["min_n"]
    slugs = [wave["survey"] for wave in waves]
    names = [cell["name"] for cell in (waves[-1]["dimensions"] if waves else [])]
    rows, columns = _grid(len(names))
    axes, titles, cells = _subplots(rows, columns, [esc(name) for name in names])
    traces, table_rows = [], []
    for index, name in enumerate(names):
        x_axis, y_axis = cells[index]
        for perspective in ("customer", "staff"):
            values = []
            for wave in waves:
                cell = next((c for c in wave["dimensions"] if c["name"] == name), None)
                values.append(cell[perspective]["mean"] if cell is not None else None)
            traces.append({
                "type": "scatter", "x": slugs, "y": values, "mode": "lines+markers",
                "name": PERSPECTIVE_LABELS[perspective], "legendgroup": perspective, "showlegend": index == 0,
                "connectgaps": False, "line": {"color": COLOURS[perspective]},
                "marker": {"symbol": SYMBOLS[perspective], "size": 8},
                "hovertemplate": "%{x}: %{y:.2f}<extra>" + PERSPECTIVE_LABELS[perspective] + "</extra>",
                "xaxis": x_axis, "yaxis": y_axis,
            })
        for wave in waves:
            cell = next((c for c in wave["dimensions"] if c["name"] == name), None)
            if cell is None:
                continue
            change = next((d for d in (wave["change"] or {}).get("dimensions", ()) if d["key"] == cell["key"]), None)
            table_rows.append((
                f"{name} · {wave['survey']}", _mean_text(cell["customer"], min_n), _mean_text(cell["staff"], min_n),
                _gap_text(cell["gap"]), percent(cell["gap"]["top_box_gap"]).replace("-", "\u2212"),
                change_text(change["customer_mean"]) if change else "—", change_text(change["gap"]) if change else "—",
            ))
    look = layout("Each dimension across waves: customers and staff", "Wave", "Mean (1–5)",
                  height=140 + 230 * rows, axes=axes, **({"annotations": titles} if titles else {}))
    for axis in axes_of(look, "y"):
        axis["range"] = [1, 5.2]
    table = Table(
        caption="Per dimension and wave: means, the staff − customer gap, the delivery gap and the change since the "
                "previous wave (95% CI; p raw and adjusted for every test on this page)",
        columns=("Dimension · wave", "Customers", "Staff", "Gap (staff − customers)",
                 "Delivery gap (top-box share, staff − customers)", "Change in customers' mean", "Change in the gap"),
        rows=tuple(table_rows),
    )
    return Chart("trend-dimensions", "Each dimension across waves",
                 "A slope chart per dimension: the customers' and the staff's mean in each wave.",
                 {"data": traces, "layout": look}, table,
                 empty=_empty(waves))


def _care_rows(label, waves):
    rows = []
    for wave in waves:
        change = wave["change"]
        rows.append((
            f"{label} · {wave['survey']}" if label else wave["survey"],
            *(number(wave["care_index"][p], digits=0) if wave["care_index"][p] is not None else "withheld"
              for p in PERSPECTIVES),
            str(wave["respondents"]["customer"]),
            percent(wave["response_rate"]),
            number(change["care_index"]["customer"], signed=True, digits=0) if change else "—",
        ))
    return rows


CARE_COLUMNS = ("Care index customers", "Care index staff", "Care index leaders", "Customers",
                "Response rate", "Change in customers' care index")


def care_index_chart(document, waves, label) -> Chart:
    """The care index per perspective across the waves of the selection."""
    slugs = [wave["survey"] for wave in waves]
    traces = [{
        "type": "scatter", "x": slugs, "y": [wave["care_index"][perspective] for wave in waves],
        "mode": "lines+markers", "name": PERSPECTIVE_LABELS[perspective], "connectgaps": False,
        "line": {"color": COLOURS[perspective]}, "marker": {"symbol": SYMBOLS[perspective], "size": 9},
        "hovertemplate": "%{x}: %{y:.0f}<extra>" + PERSPECTIVE_LABELS[perspective] + "</extra>",
    } for perspective in PERSPECTIVES]
    look = layout(f"Care index across waves: {label}", "Wave", "Care index (0–100)", height=360)
    look["yaxis"]["range"] = [0, 100]
    table = Table(caption=f"Care index, customers and response rate per wave: {label}",
                  columns=("Wave", *CARE_COLUMNS), rows=tuple(_care_rows("", waves)))
    return Chart("trend-care", f"Care index across waves: {label}",
                 "The care index of customers, staff and leaders in each wave.", {"data": traces, "layout": look},
                 table, empty=_empty(waves))


def team_multiples(document) -> Chart:
    """Small multiples, one per team: the customers' and staff care index across waves."""
    teams = document["teams"]
    rows, columns = _grid(len(teams))
    axes, titles, cells = _subplots(rows, columns, [esc(t["team"]) for t in teams])
    traces, table_rows = [], []
    for index, entry in enumerate(teams):
        x_axis, y_axis = cells[index]
        slugs = [wave["survey"] for wave in entry["waves"]]
        for perspective in ("customer", "staff"):
            traces.append({
                "type": "scatter", "x": slugs, "y": [wave["care_index"][perspective] for wave in entry["waves"]],
                "mode": "lines+markers", "name": PERSPECTIVE_LABELS[perspective], "legendgroup": perspective,
                "showlegend": index == 0, "connectgaps": False, "line": {"color": COLOURS[perspective]},
                "marker": {"symbol": SYMBOLS[perspective], "size": 8},
                "hovertemplate": "%{x}: %{y:.0f}<extra>" + PERSPECTIVE_LABELS[perspective] + "</extra>",
                "xaxis": x_axis, "yaxis": y_axis,
            })
        table_rows.extend(_care_rows(entry["team"], entry["waves"]))
    look = layout("Care index per team across waves", "Wave", "Care index (0–100)", height=140 + 230 * rows,
                  axes=axes, **({"annotations": titles} if titles else {}))
    for axis in axes_of(look, "y"):
        axis["range"] = [0, 100]
    table = Table(caption="Care index, customers and response rate per team and wave",
                  columns=("Team · wave", *CARE_COLUMNS), rows=tuple(table_rows))
    empty = None if teams else "No teams yet."
    return Chart("trend-teams", "Care index per team across waves",
                 "Small multiples: one chart per team with the customers' and staff care index in each wave.",
                 {"data": traces, "layout": look}, table, empty=empty, wide=len(teams) > 2)
