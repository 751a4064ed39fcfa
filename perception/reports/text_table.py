"""The gap report as a plain-text table for the terminal (`flask gap` without --json).

Works on the Gap JSON dict; rounding happens here only, for display.
"""

from perception.core.models import PERSPECTIVES

SUPPRESSED = "hidden"
LABELS = {"customer": "Customers", "staff": "Staff", "leader": "Leaders"}


def _number(value, digits=2, signed=False):
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _perspective(stats):
    mean = SUPPRESSED if stats["suppressed"] else _number(stats["mean"])
    return f"{stats['n']:>5} {mean:>6}"


def _p_value(p):
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _gap(gap):
    if gap["value"] is None:
        return f"{'–':>6} {'':>16} {'–':>6}"
    ci = gap["ci"]
    interval = f"[{_number(ci[0], signed=True)}, {_number(ci[1], signed=True)}]" if ci else "–"
    # The p-value adjusted for every test of the report: with many cells and groups, raw p-values
    # under 0.05 turn up by chance alone (the dashboard's "significant" reads the adjusted one too).
    return f"{_number(gap['value'], signed=True):>6} {interval:>16} {_p_value(gap['p_adjusted']):>6}"


def _table(cells, label_width=28):
    head = (
        f"{'':<{label_width}} "
        + " ".join(f"{LABELS[p]:>12}" for p in PERSPECTIVES)
        + f"  {'Staff − customers (95% CI, adj. p)':<31}  {'Leaders − customers':<31}  {'Calibr.':>7}"
    )
    sub = f"{'':<{label_width}} " + " ".join(f"{'n':>5} {'mean':>6}" for _ in PERSPECTIVES)
    lines = [head, sub]
    for cell in cells:
        label = cell.get("name") or cell["key"]
        lines.append(
            f"{label[:label_width]:<{label_width}} "
            + " ".join(_perspective(cell[p]) for p in PERSPECTIVES)
            + f"  {_gap(cell['gap'])}  {_gap(cell['leader_gap'])}  {_number(cell['calibration'], signed=True):>7}"
        )
    return lines


def _totals(body):
    care = ", ".join(f"{LABELS[p].lower()} {_number(body['care_index'][p], 1)}" for p in PERSPECTIVES)
    rate = body["indifference_rate"]
    rate_text = "–" if rate is None else f"{rate * 100:.1f}%"
    return [f"Care index (0–100): {care}.  Indifferent customers: {rate_text}."]


def render_report(report, title=None):
    filters = ", ".join(f"{name} {value}" for name, value in report["filters"].items() if value is not None)
    lines = [
        f"Care gap report: {title or report['survey']} ({report['survey']})",
        f"Filters: {filters or 'none'}.  Cells with fewer than {report['min_n']} respondents are hidden.",
        "",
        "Dimensions",
        *_table(report["dimensions"]),
        "",
        "Items",
        *_table(report["items"]),
        "",
        *_totals(report),
    ]
    for group in report["groups"]:
        by = "team" if "team" in group else "month"
        lines += ["", f"{by.capitalize()}: {group[by]}", *_table(group["dimensions"]), *_totals(group)]
    if report["groups"]:
        lines += ["", "Items per group: use --json."]
    return "\n".join(lines)
