"""Chart builders on known reports: traces, titles, axis labels, suppression and escaping."""

import json
import random
from dataclasses import replace

import plotly.graph_objects as go
import pytest

from perception import charts
from perception.charts.drivers import driver_matrix
from perception.charts.trend import care_index_chart, dimension_slopes, team_multiples
from perception.insights import (
    PERSPECTIVES,
    CrossProducts,
    DimensionSpec,
    ItemSpec,
    Moments,
    Response,
    adjust_report,
    build_driver_report,
    build_gap_report,
    difference,
    gap_change,
    group_input_from_responses,
    mean_change,
)
from perception.insights.drivers import OUTCOME
from perception.reports.headline import headline_sentence
from perception.reports.trend_queries import adjust

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

DIMENSIONS = (DimensionSpec("trust", "Trust", ("t1", "t2")), DimensionSpec("respect", "Respect", ("r1",)))
ITEMS = (ItemSpec("t1", "trust"), ItemSpec("t2", "trust"), ItemSpec("r1", "respect"))
KEYS = ("t1", "t2", "r1")


def answers(perspective, *scores, predicted=None):
    """One respondent per score; each answers every item with that score."""
    return [Response(perspective, dict.fromkeys(KEYS, score), dict.fromkeys(KEYS, predicted) if predicted else {})
            for score in scores]


def report(responses, groups=(), group_by=None, min_n=5):
    built = [(label, group_input_from_responses(rs, DIMENSIONS)) for label, rs in groups]
    return build_gap_report(
        survey="wave", dimensions=DIMENSIONS, items=ITEMS, min_n=min_n,
        overall=group_input_from_responses(responses, DIMENSIONS), group_by=group_by, groups=built,
    )


CUSTOMERS = answers("customer", 2, 3, 3, 4, 2, 3)  # mean 2.8333
STAFF = answers("staff", 4, 5, 4, 5, 4, predicted=4)  # mean 4.4
LEADERS = answers("leader", 5, 5)  # 2 leaders: suppressed at min_n 5


def layout_of(chart):
    return json.loads(chart.json())["layout"]


def named(chart, name):
    return next(trace for trace in chart.figure["data"] if trace["name"] == name)


def all_text(chart):
    return json.dumps(json.loads(chart.json())["data"])


@pytest.fixture
def full():
    return report(CUSTOMERS + STAFF + LEADERS)


def test_means_chart_plots_report_means_with_intervals(full):
    chart = charts.means_chart(full)
    customers, staff = named(chart, "Customers"), named(chart, "Staff")
    assert customers["x"] == pytest.approx([full.dimensions[0].customer.mean, full.dimensions[1].customer.mean])
    assert staff["x"] == pytest.approx([4.4, 4.4])
    low, high = full.dimensions[0].customer.ci
    assert customers["error_x"]["array"][0] == pytest.approx(high - customers["x"][0])
    assert customers["error_x"]["arrayminus"][0] == pytest.approx(customers["x"][0] - low)
    layout = layout_of(chart)
    assert layout["title"]["text"].startswith("Mean score per dimension")
    assert layout["xaxis"]["title"]["text"].startswith("Mean score (1 = strongly disagree")
    assert layout["yaxis"]["title"]["text"] == "Dimension of care"
    assert layout["yaxis"]["ticktext"] == ["Trust", "Respect"]
    assert chart.empty is None


def test_suppressed_perspective_shows_the_reason_and_no_number(full):
    chart = charts.means_chart(full)
    leaders = named(chart, "Leaders")
    assert leaders["x"] == []  # two leaders: below min_n, nothing plotted
    assert "Leaders: fewer than 5 responses" in named(chart, "withheld")["text"]
    rows = {row[0]: row for row in chart.table.rows}
    assert rows["Trust"][3] == "fewer than 5 responses"
    assert "5.00" not in rows["Trust"][3]  # the leaders' (withheld) mean appears nowhere
    assert "5.00" not in all_text(chart)


def test_delivery_gap_uses_top_box_shares(full):
    chart = charts.delivery_gap_chart(full)
    assert named(chart, "Customers")["x"] == pytest.approx([100 / 6, 100 / 6])  # one of six scores 4+
    assert named(chart, "Staff")["x"] == pytest.approx([100, 100])
    assert chart.table.rows[0][4] == "+83 percentage points"
    assert layout_of(chart)["xaxis"]["title"]["text"].startswith("Respondents whose score")


def test_calibration_places_predictions_against_customers(full):
    chart = charts.calibration_chart(full)
    said, predicted = named(chart, "Customers said"), named(chart, "Staff predicted")
    assert said["x"] == pytest.approx([17 / 6, 17 / 6])
    assert predicted["x"] == pytest.approx([4.0, 4.0])
    assert chart.table.rows[0][3] == "+1.17"


def test_calibration_empty_without_predictions():
    chart = charts.calibration_chart(report(CUSTOMERS + answers("staff", 4, 5, 4, 5, 4)))
    assert chart.empty.startswith("No calibration yet")
    assert chart.table.rows[0][2] == "No staff predictions yet"


def test_heatmap_withholds_small_teams_without_numbers():
    big = CUSTOMERS + STAFF
    small = answers("customer", 1, 1, 1) + STAFF
    other = answers("customer", 5, 5, 5) + STAFF  # 3 + 3 hidden customers: nothing more to hide
    everyone = big + small + other
    chart = charts.team_heatmap(report(everyone, [("Big", big), ("Small", small), ("Other", other)], "team"))
    values, grey = named(chart, "Staff − customers"), named(chart, "withheld")
    assert values["z"][0] == pytest.approx([4.4 - 17 / 6] * 2)
    assert values["z"][1] == [None, None]
    assert grey["z"][1] == [0, 0] and grey["z"][0] == [None, None]
    assert grey["text"][1][0] == "fewer than 5<br>responses"
    assert values["text"][1] == ["", ""]  # no number in a withheld cell
    assert values["customdata"][1][0][2] == "fewer than 5 responses (customers)"
    assert chart.table.rows[1][1:] == ("fewer than 5 responses (customers)",) * 2
    assert "3.40" not in all_text(chart) and "0.60" not in all_text(chart)  # the withheld gaps: 4.4 − 1, 4.4 − 5
    layout = layout_of(chart)
    assert layout["xaxis"]["title"]["text"] == "Dimension of care" and layout["yaxis"]["title"]["text"] == "Team"
    assert layout["yaxis"]["ticktext"] == ["Big", "Small", "Other"]


def test_heatmap_names_complementary_suppression_honestly():
    a = CUSTOMERS + STAFF
    b = answers("customer", 3, 4, 3, 4, 3, 4, 3) + STAFF
    c = answers("customer", 2, 2) + STAFF
    chart = charts.team_heatmap(report(a + b + c, [("A", a), ("B", b), ("C", c)], "team"))
    # C has 2 customers; A (6) is hidden too, so C's figures cannot be worked out from the total.
    assert named(chart, "Staff − customers")["z"][0] == [None, None]
    assert chart.table.rows[0][1] == "withheld to protect a smaller group (customers)"
    assert chart.table.rows[2][1] == "fewer than 5 responses (customers)"


def test_trend_draws_each_month_and_marks_withheld_months():
    march = CUSTOMERS + STAFF
    april = answers("customer", 4, 4) + STAFF
    may = answers("customer", 2, 2, 2) + STAFF  # 2 + 3 hidden customers: march stays visible
    groups = [("2026-03", march), ("2026-04", april), ("2026-05", may)]
    chart = charts.care_trend_chart(report(march + april + may, groups, "month"))
    customers = named(chart, "Customers")
    assert customers["x"] == ["2026-03", "2026-04", "2026-05"]
    assert customers["y"][0] == pytest.approx((17 / 6 - 1) * 25)
    assert customers["y"][1:] == [None, None]
    assert named(chart, "Staff")["y"][1] == pytest.approx(85)
    assert named(chart, "Withheld (too few responses)")["text"][:2] == [
        "2026-04, Customers: fewer than 5 responses", "2026-05, Customers: fewer than 5 responses"]
    assert layout_of(chart)["yaxis"]["title"]["text"] == "Care index (0–100)"
    assert chart.table.rows[1][1] == "fewer than 5 responses"


def test_likert_bars_diverge_around_the_neutral_middle(full):
    counts = {("t1", "customer"): {2: 2, 3: 3, 4: 1}, ("t1", "staff"): {4: 3, 5: 2}}
    chart = charts.likert_chart(full, counts, {"t1": "The staff made me feel trusted."})
    bars = [trace for trace in chart.figure["data"] if trace["type"] == "bar"]
    neutral_left = next(t for t in bars if t["name"] == "Neither agree nor disagree" and t["showlegend"])
    neutral_right = next(t for t in bars if t["name"] == "Neither agree nor disagree" and not t["showlegend"])
    disagree = next(t for t in bars if t["name"] == "Disagree")
    assert neutral_left["x"][0] == pytest.approx(-25) and neutral_right["x"][0] == pytest.approx(25)
    assert disagree["x"][0] == pytest.approx(-100 / 3)
    assert named(chart, "Agree")["x"][1] == pytest.approx(60)  # staff: 3 of 5
    ticks = layout_of(chart)["yaxis"]["ticktext"]
    assert ticks[:3] == ["Trusted. · Customers", "Staff", "Leaders"]
    assert chart.table.rows[0][2:] == ("0% (0)", "33% (2)", "50% (3)", "17% (1)", "0% (0)", "6")
    assert chart.table.rows[2][2] == "fewer than 5 responses"  # leaders on t1


def test_names_are_escaped_inside_figures_and_json():
    team = '<img src=x onerror=alert(1)> & "Co"'
    data = CUSTOMERS + STAFF
    chart = charts.team_heatmap(report(data, [(team, data)], "team"))
    assert chart.figure["layout"]["yaxis"]["ticktext"] == ['&lt;img src=x onerror=alert(1)&gt; &amp; "Co"']
    assert chart.table.rows[0][0] == team  # raw text for Jinja, which escapes it
    text = chart.json()
    assert "<" not in text and ">" not in text and "&" not in text.replace("\\u0026", "")
    assert json.loads(text)["layout"]["yaxis"]["ticktext"] == ['&lt;img src=x onerror=alert(1)&gt; &amp; "Co"']


def test_hover_templates_never_carry_names():
    data = CUSTOMERS + STAFF
    chart = charts.team_heatmap(report(data, [("%{x} team", data)], "team"))
    assert all("%{x} team" not in trace.get("hovertemplate", "") for trace in chart.figure["data"])


def test_every_builder_sets_title_and_axis_titles(full):
    monthly = report(CUSTOMERS + STAFF, [("2026-03", CUSTOMERS + STAFF)], "month")
    teams = report(CUSTOMERS + STAFF, [("A", CUSTOMERS + STAFF)], "team")
    built = [charts.means_chart(full), charts.delivery_gap_chart(full), charts.calibration_chart(full),
             charts.team_heatmap(teams), charts.care_trend_chart(monthly), charts.likert_chart(full, {}, {})]
    for chart in built:
        layout = layout_of(chart)
        assert layout["title"]["text"] and layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        assert chart.table.columns and chart.description


def test_empty_report_gives_empty_states():
    empty = report([])
    assert charts.means_chart(empty).empty.startswith("Not enough responses")
    assert charts.team_heatmap(empty).empty.startswith("No teams yet")
    assert charts.care_trend_chart(empty).empty.startswith("No responses in this period")


# ----------------------------------------------------------------------------- valid plotly figures


def trend_wave(slug, gap, before=None):
    """One wave of a trend document (perception.reports.trend_queries' shape) from its gap report."""
    body = gap.to_dict()
    change = None
    if before is not None:
        change = {
            "care_index": {p: difference(before.care_index.get(p), gap.care_index.get(p)) for p in PERSPECTIVES},
            "dimensions": [
                {"key": cell.key, "customer_mean": mean_change(old.customer, cell.customer).to_dict(),
                 "gap": gap_change(old.gap.value, (old.staff, old.customer), cell.gap.value,
                                   (cell.staff, cell.customer)).to_dict()}
                for old, cell in zip(before.dimensions, gap.dimensions, strict=True)
            ],
        }
    return {"survey": slug, "dimensions": body["dimensions"], "care_index": body["care_index"],
            "respondents": body["respondents"], "response_rate": 0.4, "change": change}


def trend_document(waves, teams=0):
    """A trend document over gap reports in wave order, with `teams` teams that each have those waves."""
    series = [trend_wave(f"2026-q{index + 1}", gap, waves[index - 1] if index else None)
              for index, gap in enumerate(waves)]
    document = {"min_n": 5, "waves": series,
                "teams": [{"team": f"Team {number} <&>", "waves": series} for number in range(teams)]}
    adjust(document)
    return document


def pairs(rng, slope, n):
    xs = [rng.gauss(0, 1) for _ in range(n)]
    return Moments.from_pairs((x, slope * x + rng.gauss(0, 1)) for x in xs)


def driver_reports():
    """Key-driver reports: by correlation with all four corners, by relative weight, one dimension
    too thin to place, and hidden altogether."""
    rng = random.Random(3)
    names = ("trust", "respect", "kindness", "attentiveness")
    dimensions = [DimensionSpec(name, name.title()) for name in names]
    performance = {"trust": 4.1, "respect": 4.0, "kindness": 3.1, "attentiveness": 2.9}
    slopes = {"trust": 1.2, "respect": 0.1, "kindness": 0.1, "attentiveness": 1.2}
    moments = {name: pairs(rng, slopes[name], 400) for name in names}
    rows = []
    for _ in range(300):
        row = {name: rng.gauss(0, 1) for name in names}
        rows.append(row | {OUTCOME: sum(slopes[name] * row[name] for name in names) + rng.gauss(0, 1)})
    cross = CrossProducts.from_rows(rows, [*names, OUTCOME])
    return [
        build_driver_report(dimensions=dimensions, outcome="care", moments=moments, performance=performance),
        build_driver_report(dimensions=dimensions, outcome="nps", moments=moments, performance=performance,
                            cross=cross),
        build_driver_report(dimensions=dimensions[:3], outcome="care", performance=performance,
                            moments=moments | {"trust": pairs(rng, 0.5, 28)}),
        build_driver_report(dimensions=dimensions[:2], outcome="nps", performance=performance,
                            moments={name: pairs(rng, 0.5, 28) for name in names[:2]}),
    ]


def every_chart():
    """Every builder on full, partly withheld and empty inputs."""
    full = report(CUSTOMERS + STAFF + LEADERS)
    big, small = CUSTOMERS + STAFF, answers("customer", 1, 1, 1) + STAFF
    other = answers("customer", 5, 5, 5) + STAFF
    teams = report(big + small + other, [("Big", big), ("<b>Small</b> & co", small), ("Other", other)], "team")
    april, may = answers("customer", 4, 4) + STAFF, answers("customer", 2, 2, 2) + STAFF
    months = report(big + april + may, [("2026-03", big), ("2026-04", april), ("2026-05", may)], "month")
    thin = report(answers("customer", 3, 4) + STAFF)
    counts = {("t1", "customer"): {2: 2, 3: 3, 4: 1}, ("t1", "staff"): {4: 3, 5: 2}}
    wordings = {"t1": "The staff made me feel trusted.", "r1": "<i>Respected</i> & heard"}
    for gap in (full, teams, months, thin, report([])):
        yield charts.means_chart(gap)
        yield charts.delivery_gap_chart(gap)
        yield charts.calibration_chart(gap)
        yield charts.team_heatmap(gap)
        yield charts.care_trend_chart(gap)
        yield charts.likert_chart(gap, counts, wordings)
        yield charts.likert_chart(gap, {}, {})
    for driver_report in driver_reports():
        yield driver_matrix(driver_report)
    for waves, team_count in (([], 0), ([full], 1), ([thin, full, months], 3), ([full, teams], 5)):
        document = trend_document(waves, team_count)
        yield care_index_chart(document, document["waves"], "the whole business")
        yield dimension_slopes(document, document["waves"])
        yield team_multiples(document)


def plain_data(value):
    """Only what JSON holds: no tuples, numpy numbers or other objects."""
    if type(value) is dict:
        return all(type(key) is str and plain_data(item) for key, item in value.items())
    if type(value) is list:
        return all(plain_data(item) for item in value)
    return type(value) in (str, int, float, bool, type(None))


def test_every_builder_emits_a_valid_plotly_figure_of_plain_data():
    built = list(every_chart())
    assert {chart.key for chart in built} == {"means", "delivery", "calibration", "teams", "trend", "distribution",
                                              "drivers", "trend-care", "trend-dimensions", "trend-teams"}
    for chart in built:
        # What plotly validated at every page view before the builders wrote dictionaries: graph objects
        # raise ValueError on an unknown property or an invalid value.
        go.Figure(chart.figure)
        assert plain_data(chart.figure), chart.key
        assert json.loads(chart.json()) == chart.figure


def test_headline_names_the_largest_significant_gap(full):
    sentence = headline_sentence(full)
    assert sentence.lead == "Staff rate" and sentence.subject in ("trust", "respect")
    gap = full.dimensions[0].gap
    assert gap.p_adjusted < 0.05 and gap.p_adjusted >= gap.p
    tests = sum(g.p is not None for body in (full, *full.groups) for cell in (*body.dimensions, *body.items)
                for g in (cell.gap, cell.leader_gap))
    assert sentence.rest == (f"{gap.value:.1f} points higher than customers do "
                             f"(95% CI {gap.ci[0]:.1f}–{gap.ci[1]:.1f}; p "
                             f"{'< 0.001' if gap.p_adjusted < 0.001 else f'= {gap.p_adjusted:.3f}'} after adjusting "
                             f"for the {tests} comparisons on this page).")


def test_headline_reads_the_adjusted_p_value(full):
    # One raw p of 0.03 among tests with p = 0.5 is significant alone, not once the page's tests count.
    def with_p(cell, p):
        return replace(cell, gap=replace(cell.gap, p=p), leader_gap=replace(cell.leader_gap, p=None))

    cells = [with_p(cell, 0.03 if index == 0 else 0.5) for index, cell in enumerate(full.dimensions)]
    items = [with_p(cell, 0.5) for cell in full.items]
    page = adjust_report(replace(full, dimensions=tuple(cells), items=tuple(items), groups=()))
    assert page.dimensions[0].gap.p == 0.03 and page.dimensions[0].gap.p_adjusted >= 0.05
    assert str(headline_sentence(page)).startswith("No gap between customers and staff or leaders is statistically")
    alone = adjust_report(replace(page, dimensions=page.dimensions[:1], items=()))
    assert alone.dimensions[0].gap.p_adjusted == 0.03  # one test: nothing to adjust for
    assert headline_sentence(alone).subject == full.dimensions[0].name.lower()


def test_headline_is_honest_without_a_significant_gap():
    same = report(answers("customer", 3, 4, 3, 4, 3) + answers("staff", 4, 3, 4, 3, 3))
    assert str(headline_sentence(same)).startswith("No gap between customers and staff or leaders is statistically")
    thin = report(answers("customer", 3, 4))
    assert str(headline_sentence(thin)).startswith("Too few responses to compare perspectives yet")
    assert str(headline_sentence(report([]))).startswith("No customer responses yet")


def test_headline_reports_a_lower_rating_with_positive_bounds():
    lower = report(answers("customer", 5, 5, 4, 5, 5, 4) + answers("staff", 2, 1, 2, 2, 1))
    sentence = headline_sentence(lower)
    gap = lower.dimensions[0].gap
    assert "points lower than customers do" in sentence.rest
    assert f"(95% CI {-gap.ci[1]:.1f}–{-gap.ci[0]:.1f};" in sentence.rest
