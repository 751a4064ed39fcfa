"""`flask gap` on a small CSV imported through the real command, checked against figures
computed by hand (the arithmetic is in the comments; t quantiles and p-values from scipy).

tests/data/gap_small.csv, survey items trust_believed (tb), trust_reliable (tr) [trust] and
respect_dignity (rd) [respect], min_n = 3:

    who  team   month    tb tr rd  predicted tb tr rd
    c1   North  2026-01   4  5  3
    c2   North  2026-01   3  .  2
    c3   North  2026-02   5  4  4
    c4   South  2026-02   2  2  1
    c5   South  2026-03   4  3  .
    c6   South  2026-03   .  .  5
    c7   East   2026-03   5  5  5
    c8   East   2026-03   4  4  4
    c9   East   2026-03   3  4  3
    c10  East   2026-05   1  2  2    (2026-04-30T23:30-02:00 is May in UTC)
    c11  East   2026-01   .  .  .    (answers nothing: counts in no figure)
    s1   North  2026-01   5  5  4              4  4  4
    s2   North  2026-02   4  4  5              3  4  .
    s3   South  2026-02   5  4  4              5  5  3
    s4   East   2026-03   4  4  4              3  3  3
    l1   (none) 2026-02   5  5  5
    l2   North  2026-02   4  5  4
"""

import json
import math
from pathlib import Path

import pytest
from scipy import stats

from tests.helpers import make_survey
from tests.reports_support import assert_close, gap_json, items_by_key

DATA = Path(__file__).resolve().parent.parent / "data"
SMALL = DATA / "gap_small.csv"
ITEM_KEYS = ("trust_believed", "trust_reliable", "respect_dignity")


@pytest.fixture
def small(app, db, runner):
    # The figures here are worked by hand per respondent, so every answer is published at once:
    # batches of one (MIN_N = 1; the reports below pass their own --min-n). Publication in batches
    # of MIN_N is tested in test_publication_batches.py.
    app.config["MIN_N"] = 1
    survey = make_survey("hand", items=items_by_key(db, ITEM_KEYS))
    result = runner.invoke(args=["import-responses", str(SMALL), "--survey", "hand", "--create-teams"])
    assert result.exit_code == 0, result.output
    assert "Imported 17 responses into survey hand: 11 customer, 4 staff, 2 leader." in result.stdout
    assert "Created 3 team(s): East, North, South." in result.stdout
    assert "1 row(s) answered no item" in result.stdout
    return survey


def welch(a, b):
    """(value, ci, p) of mean(a) - mean(b), straight from the textbook formulas."""
    va, vb = stats.tvar(a) / len(a), stats.tvar(b) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    value = sum(a) / len(a) - sum(b) / len(b)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    p = 2 * stats.t.sf(abs(value) / math.sqrt(va + vb), df)
    return value, [value - half, value + half], p


def test_whole_survey_figures(small, runner):
    report = gap_json(runner, "--survey", "hand", "--min-n", "3")
    assert report["survey"] == "hand" and report["min_n"] == 3
    assert report["filters"] == {"team": None, "by": None, "from": None, "to": None}
    assert report["groups"] == []
    trust = report["dimensions"][0]
    assert trust["key"] == "trust" and [d["key"] for d in report["dimensions"]] == ["trust", "respect"]

    # Customers' trust scores (mean of tb, tr answered): 4.5 3 4.5 2 3.5 5 4 3.5 1.5 (c6, c11 none)
    # n = 9, sum 31.5, mean 3.5; squared deviations 1 .25 1 2.25 0 2.25 .25 0 4 = 11 -> var 11/8
    # top box (>= 4): 4.5 4.5 5 4 -> 4/9; ci = 3.5 -+ t(.975, 8) * sqrt(11/8) / 3
    customers = [4.5, 3, 4.5, 2, 3.5, 5, 4, 3.5, 1.5]
    half = stats.t.ppf(0.975, 8) * math.sqrt(11 / 8) / 3
    assert_close(trust["customer"], {
        "n": 9, "mean": 3.5, "sd": math.sqrt(11 / 8), "ci": [3.5 - half, 3.5 + half], "top_box": 4 / 9,
        "suppressed": False})
    # Staff trust: 5 4 4.5 4 -> n 4, mean 4.375, squared deviations sum .6875 -> var .6875/3, top box 1
    staff = [5, 4, 4.5, 4]
    assert trust["staff"]["mean"] == 4.375 and trust["staff"]["top_box"] == 1.0
    assert trust["staff"]["sd"] == pytest.approx(math.sqrt(0.6875 / 3), rel=1e-12)
    # Welch: se^2 = (.6875/3)/4 + (11/8)/9; gap 4.375 - 3.5 = .875; top box gap 1 - 4/9 = 5/9
    value, ci, p = welch(staff, customers)
    assert value == 0.875
    # p_adjusted: Benjamini-Hochberg over every test of the report (dimensions and items, staff and leaders)
    tested = [cell[key]["p"] for cell in report["dimensions"] + report["items"] for key in ("gap", "leader_gap")
              if cell[key]["p"] is not None]
    adjusted = float(stats.false_discovery_control(tested, method="bh")[tested.index(trust["gap"]["p"])])
    assert_close(trust["gap"], {"value": 0.875, "ci": ci, "p": p, "p_adjusted": adjusted, "top_box_gap": 5 / 9},
                 rel=1e-9)
    # df = se^4 / ((.6875/12)^2 / 3 + (11/72)^2 / 8) = 11 (exactly); p = 0.0827: not significant at 5 %
    assert p == pytest.approx(stats.ttest_ind(staff, customers, equal_var=False).pvalue, rel=1e-12)
    assert trust["gap"]["p"] == pytest.approx(0.08266791212126, rel=1e-9)
    # Leaders: l1 5, l2 4.5 -> n 2 < 3: suppressed, so the leader gap is all null.
    assert trust["leader"] == {"n": 2, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert trust["leader_gap"] == {"value": None, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": None}
    # Predicted trust: s1 (4+4)/2 = 4, s2 3.5, s3 5, s4 3 -> mean 3.875; calibration .875 - .5 = .375
    assert trust["calibration"] == pytest.approx(0.375, rel=1e-12)

    respect = report["dimensions"][1]
    # rd customers: 3 2 4 1 5 5 4 3 2 -> n 9, mean 29/9; predicted rd: 4 3 3 -> 10/3 -> calibration 1/9
    assert respect["customer"]["n"] == 9 and respect["customer"]["mean"] == pytest.approx(29 / 9, rel=1e-12)
    assert respect["staff"]["mean"] == 4.25
    assert respect["calibration"] == pytest.approx(1 / 9, rel=1e-12)

    by_key = {item["key"]: item for item in report["items"]}
    assert [item["key"] for item in report["items"]] == list(ITEM_KEYS)
    assert by_key["trust_reliable"]["dimension"] == "trust"
    # tr customers: 5 4 2 3 5 4 4 2 -> n 8, mean 29/8; staff predictions 4 4 5 3 -> 4 -> calibration 3/8
    assert by_key["trust_reliable"]["customer"]["n"] == 8
    assert by_key["trust_reliable"]["customer"]["mean"] == 29 / 8
    assert by_key["trust_reliable"]["calibration"] == pytest.approx(3 / 8, rel=1e-12)

    # Care index, customers: per-respondent means 4, 5/2, 13/3, 5/3, 7/2, 5, 5, 4, 10/3, 5/3 (c11 none)
    # sum 35 over 10 -> 3.5 -> (3.5 - 1) / 4 * 100 = 62.5. Staff: 14/3 13/3 13/3 4 -> 13/3 -> 250/3.
    # Leaders: 2 respondents < 3 -> null. Indifferent (<= 2.0): c4 and c10 (5/3) -> 2/10.
    assert_close(report["care_index"], {"customer": 62.5, "staff": 250 / 3, "leader": None})
    assert report["indifference_rate"] == pytest.approx(0.2, rel=1e-12)


def test_by_team_with_complementary_suppression(small, runner):
    report = gap_json(runner, "--survey", "hand", "--min-n", "3", "--by", "team")
    assert report["filters"]["by"] == "team"
    assert [group["team"] for group in report["groups"]] == ["East", "North", "South"]
    east, north, south = report["groups"]
    # Trust customers: East 5 4 3.5 1.5 (n 4), North 4.5 3 4.5 (n 3), South 2 3.5 (n 2).
    # South < 3 is suppressed; alone it could be recovered from the total, so the smallest shown
    # group (North, 3) is suppressed as well. East stays: mean 14/4 = 3.5.
    assert south["dimensions"][0]["customer"] == {
        "n": 2, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert north["dimensions"][0]["customer"]["suppressed"] is True
    assert north["dimensions"][0]["customer"]["n"] == 3 and north["dimensions"][0]["customer"]["mean"] is None
    assert east["dimensions"][0]["customer"]["suppressed"] is False
    assert east["dimensions"][0]["customer"]["mean"] == 3.5
    # Staff per team: 1, 2, 1 -> all suppressed, so every team's gap and calibration are null.
    assert all(group["dimensions"][0]["staff"]["suppressed"] for group in report["groups"])
    assert east["dimensions"][0]["gap"]["value"] is None and east["dimensions"][0]["calibration"] is None
    # Care index, customers: East 5 4 10/3 5/3 -> 14/4 = 3.5 -> 62.5; North 4 5/2 13/3 -> 65/18 ->
    # (65/18 - 1) * 25; South 5/3 7/2 5 -> 61/18 -> (61/18 - 1) * 25. Indifferent: East 1/4, North 0,
    # South 1/3. The team-less leader l1 counts at the top level only.
    assert [group["care_index"]["customer"] for group in report["groups"]] == pytest.approx(
        [62.5, (65 / 18 - 1) * 25, (61 / 18 - 1) * 25], rel=1e-12)
    assert [group["indifference_rate"] for group in report["groups"]] == pytest.approx([0.25, 0.0, 1 / 3])
    assert report["dimensions"][0]["leader"]["n"] == 2
    assert sum(group["dimensions"][0]["leader"]["n"] for group in report["groups"]) == 1
    # The top level is never touched by complementary suppression.
    assert report["dimensions"][0]["customer"]["mean"] == 3.5


def test_by_team_lists_teams_without_responses(small, runner, db):
    from tests.helpers import make_team

    make_team("Annex")
    report = gap_json(runner, "--survey", "hand", "--by", "team")
    annex = report["groups"][0]
    assert annex["team"] == "Annex"
    assert annex["dimensions"][0]["customer"] == {
        "n": 0, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert annex["care_index"] == {"customer": None, "staff": None, "leader": None}


def test_by_month_includes_empty_months(small, runner):
    report = gap_json(runner, "--survey", "hand", "--min-n", "3", "--by", "month")
    assert [group["month"] for group in report["groups"]] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    jan, feb, mar, apr, may = report["groups"]
    # Trust customers per month: Jan c1 c2 (2), Feb c3 c4 (2), Mar c5 c7 c8 c9 (4), Apr none, May c10 (1).
    # Small months hide 2 + 2 + 1 = 5 >= 3 respondents, so March stays: (3.5 + 5 + 4 + 3.5) / 4 = 4.
    assert [g["dimensions"][0]["customer"]["n"] for g in report["groups"]] == [2, 2, 4, 0, 1]
    assert mar["dimensions"][0]["customer"]["mean"] == 4.0
    assert apr["dimensions"][0]["customer"]["suppressed"] is True
    assert may["dimensions"][0]["customer"]["suppressed"] is True
    # c10 was submitted 2026-04-30T23:30-02:00 = 2026-05-01T01:30Z: May, not April.
    assert apr["care_index"]["customer"] is None and may["care_index"]["customer"] is None


def test_month_filters(small, runner):
    report = gap_json(runner, "--survey", "hand", "--min-n", "3", "--from", "2026-03", "--to", "2026-03")
    assert report["filters"] == {"team": None, "by": None, "from": "2026-03", "to": "2026-03"}
    # March: customers c5 c6 c7 c8 c9, staff s4.
    # Care index: 7/2 5 5 4 10/3 -> sum 125/6, mean 25/6 -> (25/6 - 1) * 25 = 475/6; nobody <= 2.
    assert report["care_index"]["customer"] == pytest.approx(475 / 6, rel=1e-12)
    assert report["indifference_rate"] == 0.0
    assert report["dimensions"][0]["customer"]["n"] == 4
    # --to alone keeps everything up to the end of that month (c10 in May is excluded by April).
    report = gap_json(runner, "--survey", "hand", "--min-n", "3", "--to", "2026-04")
    assert report["dimensions"][0]["customer"]["n"] == 8


def test_team_filter_applies_to_care_index_and_indifference(small, runner):
    report = gap_json(runner, "--survey", "hand", "--min-n", "3", "--team", "North")
    assert report["filters"] == {"team": "North", "by": None, "from": None, "to": None}
    trust = report["dimensions"][0]
    # North customers' trust: 4.5 3 4.5 -> mean 4, squared deviations .25 1 .25 -> var .75
    assert trust["customer"]["n"] == 3 and trust["customer"]["mean"] == 4.0
    assert trust["customer"]["sd"] == pytest.approx(math.sqrt(0.75), rel=1e-12)
    # Care index North customers: 4, 5/2, 13/3 -> 65/18; staff s1 s2: 2 < 3 -> null; l2 alone -> null
    assert_close(report["care_index"], {"customer": (65 / 18 - 1) * 25, "staff": None, "leader": None})
    # Nobody in North is at or below 2.0 (c2 is 2.5), unlike the whole survey's 0.2.
    assert report["indifference_rate"] == 0.0


def test_table_output_rounds_for_display_only(small, runner):
    result = runner.invoke(args=["gap", "--survey", "hand", "--min-n", "3"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Trust" in text and "3.50" in text and "+0.88" in text  # gap .875 shown with 2 decimals
    assert "hidden" in text  # the suppressed leader cell
    assert "Care index (0–100): customers 62.5, staff 83.3" in text
    # The trust gap's p is shown adjusted for the report's every test (raw 0.083), as the dashboard reads it.
    report = json.loads(runner.invoke(args=["gap", "--survey", "hand", "--min-n", "3", "--json"]).stdout)
    adjusted = report["dimensions"][0]["gap"]["p_adjusted"]
    assert adjusted > report["dimensions"][0]["gap"]["p"]
    trust_line = next(line for line in text.splitlines() if line.startswith("Trust"))
    assert f"{adjusted:.3f}" in trust_line and "0.083" not in trust_line
    assert "adj. p" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--survey", "nope"], "no survey with slug 'nope'"),
        (["--survey", "hand", "--team", "Atlantis"], "no team named 'Atlantis'"),
        (["--survey", "hand", "--from", "2026-13"], "YYYY-MM"),
        (["--survey", "hand", "--to", "March"], "YYYY-MM"),
        (["--survey", "hand", "--from", "2026-05", "--to", "2026-04"], "after"),
        (["--survey", "hand", "--by", "week"], "week"),
        (["--survey", "hand", "--min-n", "0"], "0"),
    ],
)
def test_bad_arguments_exit_2(small, runner, args, message):
    result = runner.invoke(args=["gap", *args, "--json"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
