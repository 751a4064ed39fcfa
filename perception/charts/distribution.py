"""(c) Diverging stacked bars: how the answers to each item spread over the 1–5 scale, per perspective.

Disagreement extends left of zero, agreement right, the neutral middle half each side. Whether
a row may be shown is decided by the gap report's item cells (the anonymity rule); the bars
themselves are answer counts turned into shares of the row.
"""

from __future__ import annotations

from .base import PERSPECTIVE_LABELS, PERSPECTIVES, Chart, Table, esc, layout, not_enough, withheld

LIKERT_LABELS = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
# ColorBrewer PuOr, a colour-blind-safe diverging scheme; grey for the neutral middle.
LIKERT_COLOURS = ("#b35806", "#f1a340", "#bdbdbd", "#998ec3", "#542788")
ITEM_SPACING = 3.6  # three perspective rows per item and a little air between items
SHORT_LABEL = 52


def short_label(text: str) -> str:
    """A short y-axis label from an item's customer wording (the full text is in the hover and table)."""
    for prefix in ("The staff made me feel ", "The staff made me "):
        if text.startswith(prefix):
            text = text[len(prefix):]
            text = text[:1].upper() + text[1:]
            break
    return text if len(text) <= SHORT_LABEL else text[: SHORT_LABEL - 1].rstrip() + "…"


def _share_text(count, total):
    return f"{count / total * 100:.0f}%"


def likert_chart(report, counts, labels) -> Chart:
    """`counts[(item key, perspective)]` maps a score 1–5 to its number of answers; `labels` maps
    an item key to its wording. Rows whose report cell is suppressed show the reason instead."""
    rows = []  # (position, item label, perspective, score counts or None, reason or None)
    for index, cell in enumerate(report.items):
        label = labels.get(cell.key, cell.key)
        for offset, p in enumerate(PERSPECTIVES):
            stats = getattr(cell, p)
            position = index * ITEM_SPACING + offset
            if stats.suppressed:
                rows.append((position, label, p, None, withheld(stats.n, report.min_n)))
            else:
                scores = counts.get((cell.key, p), {})
                rows.append((position, label, p, [int(scores.get(s, 0)) for s in range(1, 6)], None))

    traces = []
    shown = [row for row in rows if row[3] and sum(row[3])]
    # Relative stacking: each sign stacks outward in trace order, so the neutral halves come first.
    for score, side, half in ((3, -1, True), (3, 1, True), (2, -1, False), (4, 1, False), (1, -1, False),
                              (5, 1, False)):
        xs, ys, data = [], [], []
        for position, label, p, row_counts, _ in shown:
            total, count = sum(row_counts), row_counts[score - 1]
            share = count / total * 100
            xs.append(side * (share / 2 if half else share))
            ys.append(position)
            data.append([esc(label), PERSPECTIVE_LABELS[p], count, total, _share_text(count, total)])
        traces.append({
            "type": "bar", "x": xs, "y": ys, "orientation": "h", "name": LIKERT_LABELS[score - 1], "customdata": data,
            "marker": {"color": LIKERT_COLOURS[score - 1], "line": {"color": "#ffffff", "width": 0.5}},
            "legendgroup": str(score), "legendrank": score, "showlegend": not (half and side > 0),
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>%{{customdata[1]}}, {LIKERT_LABELS[score - 1]}: "
                             "%{customdata[4]} (%{customdata[2]} of %{customdata[3]})<extra></extra>",
        })
    hidden = [row for row in rows if row[4] is not None]
    if hidden:
        traces.append({
            "type": "scatter", "x": [-98] * len(hidden), "y": [row[0] for row in hidden], "mode": "text",
            "text": [esc(row[4]) for row in hidden], "textposition": "middle right",
            "textfont": {"color": "#4a5468", "size": 11}, "hoverinfo": "skip", "showlegend": False,
            "name": "withheld",
        })
    look = layout("How answers spread over the scale, per item and perspective",
                  "Share of answers (%): disagreement to the left, agreement to the right", "Item and perspective",
                  height=150 + 20 * max(3, len(rows)), barmode="relative", bargap=0.25)
    ticks = [(row[0], f"{short_label(row[1])} · {PERSPECTIVE_LABELS[row[2]]}" if row[2] == "customer"
              else PERSPECTIVE_LABELS[row[2]]) for row in rows]
    look["yaxis"] |= {"tickmode": "array", "tickvals": [t[0] for t in ticks], "ticktext": [esc(t[1]) for t in ticks],
                      "range": [(rows[-1][0] + 0.6) if rows else 1, -0.6], "showgrid": False}
    look["xaxis"] |= {"range": [-100, 100], "tickvals": [-100, -50, 0, 50, 100],
                      "ticktext": ["100%", "50%", "0", "50%", "100%"], "zeroline": True, "zerolinecolor": "#4a5468"}
    table = Table(
        "Answers per item and perspective: share of answers (number of answers) at each point of the scale",
        ("Item", "Perspective", *LIKERT_LABELS, "Answers"),
        tuple(_table_row(label, p, row_counts, reason) for _, label, p, row_counts, reason in rows),
    )
    return Chart(
        "distribution", "Spread of answers",
        "Diverging stacked bars of the share of answers from strongly disagree to strongly agree, "
        "for each item and perspective.",
        {"data": traces, "layout": look}, table, None if shown else not_enough(report.min_n), wide=True,
    )


def _table_row(label, perspective, row_counts, reason):
    if reason is not None:
        return (label, PERSPECTIVE_LABELS[perspective], reason, *([""] * 4), "")
    total = sum(row_counts)
    if not total:
        return (label, PERSPECTIVE_LABELS[perspective], "no answers", *([""] * 4), "0")
    cells = tuple(f"{_share_text(count, total)} ({count})" for count in row_counts)
    return (label, PERSPECTIVE_LABELS[perspective], *cells, str(total))
