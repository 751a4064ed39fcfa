"""Static SVG charts for the printable report: no JavaScript, so they print and save as PDF as seen.

Same conventions as the plotly charts: Okabe-Ito colours plus a different marker shape per
perspective, axis titles, suppressed values shown as the reason, never as a number. Names from
the database are escaped (markupsafe) before they enter the markup.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .base import COLOURS, PERSPECTIVE_LABELS, PERSPECTIVES, withheld

WIDTH, LEFT, RIGHT, TOP, ROW = 720, 190, 24, 56, 34
OFFSETS = {"customer": -9, "staff": 0, "leader": 9}


def _x(score: float) -> float:
    return LEFT + (score - 1.0) / 4.0 * (WIDTH - LEFT - RIGHT)


def _marker(perspective: str, x: float, y: float) -> str:
    colour = COLOURS[perspective]
    if perspective == "staff":  # diamond
        return (f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}" '
                f'fill="{colour}" stroke="#fff"/>')
    if perspective == "leader":  # square
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}" stroke="#fff"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}" stroke="#fff"/>'


def means_svg(report, title: str = "Mean score per dimension, with 95% confidence intervals") -> Markup:
    """Dot plot of each perspective's mean per dimension (1-5) with its 95 % interval."""
    rows = list(report.dimensions)
    height = TOP + ROW * max(1, len(rows)) + 52
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="svg-means-title svg-means-desc" class="print-chart">',
        f'<title id="svg-means-title">{escape(title)}</title>',
        '<desc id="svg-means-desc">Customers are circles, staff diamonds, leaders squares. '
        'The table below holds the same figures.</desc>',
        f'<text x="0" y="16" font-size="15" font-weight="700" fill="#1d2433">{escape(title)}</text>',
    ]
    legend_x = LEFT
    for perspective in PERSPECTIVES:
        parts.append(_marker(perspective, legend_x, 36))
        parts.append(f'<text x="{legend_x + 10}" y="40" font-size="12" fill="#1d2433">'
                     f'{PERSPECTIVE_LABELS[perspective]}</text>')
        legend_x += 110
    bottom = TOP + ROW * max(1, len(rows))
    for score in range(1, 6):
        x = _x(score)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e6eb"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" font-size="12" text-anchor="middle" fill="#4a5468">'
                     f'{score}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{bottom + 38}" font-size="12" text-anchor="middle" '
                 'fill="#1d2433">Mean score (1 = strongly disagree, 5 = strongly agree)</text>')
    for index, cell in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(f'<text x="{LEFT - 10}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#1d2433">'
                     f'{escape(cell.name)}</text>')
        reasons = []
        for perspective in PERSPECTIVES:
            stats = getattr(cell, perspective)
            row_y = y + OFFSETS[perspective]
            if stats.suppressed:
                reasons.append(f"{PERSPECTIVE_LABELS[perspective]}: {withheld(stats.n, report.min_n)}")
                continue
            if stats.ci is not None:
                low, high = (max(1.0, min(5.0, value)) for value in stats.ci)
                parts.append(f'<line x1="{_x(low):.1f}" y1="{row_y:.1f}" x2="{_x(high):.1f}" y2="{row_y:.1f}" '
                             f'stroke="{COLOURS[perspective]}" stroke-width="1.5"/>')
            parts.append(_marker(perspective, _x(stats.mean), row_y))
        if len(reasons) == len(PERSPECTIVES):
            parts.append(f'<text x="{LEFT + 6}" y="{y + 4:.1f}" font-size="11" fill="#4a5468">'
                         f'{escape("; ".join(reasons))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every piece of text above went through escape())
