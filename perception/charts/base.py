"""What every chart shares: the Chart and Table records, colours, layout, escaping and number formats.

Numbers are rounded here, at display, and nowhere else. A suppressed value is always shown as
the reason it is withheld, never as a number.

Figures are plotly figure dictionaries ({"data": [trace, ...], "layout": {...}}, each trace with its
"type"), which plotly.js draws as they are: building plotly graph objects validated every property
at each page view (~40 ms a chart). tests/charts/test_charts.py validates every builder's output
through plotly.graph_objects instead. Everything in them is plain JSON data: str, int, float, bool,
None, list and dict.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

PERSPECTIVES = ("customer", "staff", "leader")
PERSPECTIVE_LABELS = {"customer": "Customers", "staff": "Staff", "leader": "Leaders"}
# Okabe-Ito: distinguishable with every common colour-vision deficiency; marker shapes differ too.
COLOURS = {"customer": "#0072B2", "staff": "#D55E00", "leader": "#009E73"}
SYMBOLS = {"customer": "circle", "staff": "diamond", "leader": "square"}
INK = "#1d2433"
MUTED = "#4a5468"
MINUS = "\u2212"


@dataclass(frozen=True)
class Table:
    """The data of a chart as rows of display strings: the chart's text alternative."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """One figure (a plotly figure dictionary) with its title, a one-line description and its data as a table.

    `empty` is set when there is nothing to draw yet; the page shows that message instead.
    `wide` charts keep a minimum width and scroll sideways on a phone rather than squash.
    """

    key: str
    title: str
    description: str
    figure: dict  # {"data": [...], "layout": {...}}: a plotly figure dictionary
    table: Table
    empty: str | None = None
    wide: bool = False

    def json(self) -> str:
        return figure_json(self.figure)


def figure_json(figure: dict) -> str:
    """The figure as JSON that is safe inside <script type="application/json"> (no "</script>").
    Strict JSON: a NaN or an infinity raises ValueError (JSON.parse would reject it)."""
    text = json.dumps(figure, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def esc(text) -> str:
    """Escape text for plotly.js, which renders <b>, <a href> ... in labels and hovers."""
    return html.escape(str(text), quote=False)


# ----------------------------------------------------------------------------- formats


def number(value, signed=False, digits=2) -> str:
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", MINUS)


def percent(share) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def p_value(p) -> str:
    if p is None:
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def withheld(n, min_n) -> str:
    """Why a value is not shown. Complementary suppression can hide a group of min_n or more."""
    if n < min_n:
        return f"fewer than {min_n} responses"
    return "withheld to protect a smaller group"


def mean_ci(stats) -> str:
    if stats.ci is None:
        return number(stats.mean)
    return f"{number(stats.mean)} (95% CI {number(stats.ci[0])}–{number(stats.ci[1])})"


def cell_text(stats, min_n, show) -> str:
    """`show(stats)` with n, or the reason the value is withheld."""
    if stats.suppressed:
        return withheld(stats.n, min_n)
    return f"{show(stats)}, n = {stats.n}"


def gap_text(gap, other, customer, min_n, other_name="staff") -> str:
    """A gap in points with its interval and p-value, or why it cannot be shown."""
    if gap.value is None:
        side, who = (customer, "customers") if customer.suppressed else (other, other_name)
        return f"{withheld(side.n, min_n)} ({who})"
    text = number(gap.value, signed=True)
    if gap.ci is not None:
        text += f" (95% CI {number(gap.ci[0], signed=True)} to {number(gap.ci[1], signed=True)}), {p_value(gap.p)}"
        if gap.p_adjusted is not None:  # adjusted for every test of the report (Benjamini-Hochberg)
            text += f", adjusted {p_value(gap.p_adjusted)}"
    return text


# ----------------------------------------------------------------------------- layout


def _x_axis(x_title):
    return {"title": {"text": esc(x_title), "standoff": 12}, "gridcolor": "#e3e6eb", "zeroline": False,
            "automargin": True}


def _y_axis(y_title):
    # Invisible outside ticks keep the labels off the bars and markers.
    return {"title": {"text": esc(y_title), "standoff": 14}, "gridcolor": "#e3e6eb", "zeroline": False,
            "automargin": True, "ticks": "outside", "ticklen": 8, "tickcolor": "rgba(0,0,0,0)"}


def layout(title: str, x_title: str, y_title: str, height: int, axes=None, **extra) -> dict:
    """Shared look: plain white, readable fonts, legend above the plot, axis titles always set.

    `axes` maps layout axis names ("xaxis", "yaxis2" ...) to their own settings (a subplot grid's
    domains); each gets the shared axis look and its title. Without it: one x and one y axis."""
    result = {
        # What plotly's template="none" serialises to: a template that sets nothing (its one entry only
        # names the trace type), so plotly.js draws with its own defaults, as with no template at all.
        "template": {"data": {"scatter": [{"type": "scatter"}]}},
        # The title sits at the top of the figure and the legend right under it; a legend that wraps
        # (on a phone) pushes the plot down instead of covering it (plotly's margin autoexpand).
        "title": {"text": esc(title), "x": 0.01, "xanchor": "left", "yref": "container", "y": 1 - 12 / height,
                  "yanchor": "top", "font": {"size": 16}},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 13,
                 "color": INK},
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 84, "b": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "xref": "container", "x": 0.01, "xanchor": "left", "yref": "container",
                   "y": 1 - 40 / height, "yanchor": "top"},
        "hoverlabel": {"bgcolor": "#ffffff", "font": {"color": INK}},
        **extra,
    }
    for name, settings in (axes or {"xaxis": {}, "yaxis": {}}).items():
        result[name] = settings | (_x_axis(x_title) if name.startswith("x") else _y_axis(y_title))
    return result


def axes_of(layout: dict, letter: str) -> list[dict]:
    """Every x ("x") or y ("y") axis of a layout, to set something on all of them."""
    return [axis for name, axis in layout.items() if name.startswith(f"{letter}axis")]


def rows_axis(layout: dict, labels) -> None:
    """Rows top to bottom at 0, 1, 2 ...: numeric positions, so two equal names never merge."""
    layout["yaxis"] |= {"tickmode": "array", "tickvals": list(range(len(labels))),
                        "ticktext": [esc(label) for label in labels], "range": [len(labels) - 0.5, -0.5],
                        "showgrid": False}


WITHHELD_TRACE = "withheld"


def withheld_labels(traces: list, positions, texts) -> None:
    """Text where a suppressed value would be drawn: the reason, never a number."""
    if positions:
        traces.append({
            "type": "scatter", "x": [x for x, _ in positions], "y": [y for _, y in positions], "mode": "text",
            "text": [esc(text) for text in texts], "textposition": "middle right",
            "textfont": {"color": MUTED, "size": 11}, "hoverinfo": "skip", "showlegend": False,
            "name": WITHHELD_TRACE,
        })


def not_enough(min_n) -> str:
    return (f"Not enough responses to show yet: each perspective needs at least {min_n} respondents "
            "before its figures appear.")
