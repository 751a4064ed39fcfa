"""The gap report recomputed in plain Python from the raw CSV rows, independently of the SQL
path and of perception.insights (textbook formulas, scipy for t quantiles and Welch's test),
for a random CSV of a few hundred rows, imported through the real command. Every number of
the Gap JSON must agree to 1e-9, with and without --by, --team and month filters."""

import math
import random
import statistics
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from scipy import stats
from sqlalchemy import select

from perception.core.models import Dimension, Item
from tests.helpers import make_survey
from tests.reports_support import assert_close, gap_json, items_by_key, write_csv

ITEM_KEYS = ("trust_believed", "trust_reliable", "respect_dignity", "kindness_warm", "kindness_patient",
             "personal_person")
TEAMS = ["Alpha"] * 6 + ["Beta"] * 4 + ["Gamma"] * 2 + ["Delta"] + [""] * 2  # Delta is tiny, "" = no team
PERSPECTIVES = ("customer", "staff", "leader")
BIAS = {"customer": 3.2, "staff": 4.1, "leader": 4.3}
NULL_STATS = {"mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
NULL_GAP = {"value": None, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": None}


def random_rows(rng, count):
    """Respondents as plain dicts (the truth), and the CSV cells that encode them."""
    truth, cells = [], []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(count):
        perspective = rng.choices(PERSPECTIVES, weights=(70, 20, 10))[0]
        moment = start + timedelta(seconds=rng.randrange(181 * 86400))
        if moment.month == 4:  # no response in April: an empty month between others
            moment += timedelta(days=31)
        score = {key: min(5, max(1, round(rng.gauss(BIAS[perspective], 1.1)))) for key in ITEM_KEYS}
        answers = {key: value for key, value in score.items() if rng.random() < 0.85}
        if rng.random() < 0.03:
            answers = {}
        predictions = {}
        if perspective == "staff":
            predictions = {key: rng.randint(2, 5) for key in ITEM_KEYS if rng.random() < 0.7}
        team = rng.choice(TEAMS)
        truth.append({"perspective": perspective, "team": team, "at": moment, "answers": answers,
                      "predictions": predictions})
        offset = timezone(timedelta(hours=rng.choice([-5, 0, 2, 9])))
        written = rng.choice([
            moment.isoformat().replace("+00:00", "Z"),
            moment.astimezone(offset).isoformat(),
            moment.replace(tzinfo=None).isoformat(sep=" "),
        ])
        comment = rng.choice(["", "", "Fine, thanks", 'She said "no", twice.\nThen yes.'])
        nps = str(rng.randint(0, 10)) if perspective == "customer" and rng.random() < 0.8 else ""
        cells.append([perspective, f"r{len(cells)}", team, written]
                     + [str(answers.get(key, "")) for key in ITEM_KEYS]
                     + [str(predictions.get(key, "")) for key in ITEM_KEYS] + [comment, nps])
    header = ["perspective", "respondent", "team", "submitted_at", *ITEM_KEYS,
              *(f"predicted:{key}" for key in ITEM_KEYS), "comment", "nps"]
    return truth, header, cells


def is_small(n, min_n):
    return n < min_n or n == 0


def complementary(counts, min_n):
    """DESIGN's small-cell rule plus complementary suppression across the groups of one cell."""
    hidden = [is_small(n, min_n) for n in counts]
    while True:
        total = sum(n for n, flag in zip(counts, hidden, strict=True) if flag)
        shown = [(n, index) for index, n in enumerate(counts) if not hidden[index] and n > 0]
        if total == 0 or total >= min_n or not shown:
            return hidden
        hidden[min(shown)[1]] = True


def score(values):
    return Fraction(sum(values), len(values)) if values else None


def describe(scores, hidden):
    n = len(scores)
    if hidden:
        return {"n": n, **NULL_STATS}
    mean = math.fsum(scores) / n
    sd = statistics.stdev(scores) if n > 1 else None
    ci = None
    if sd is not None:
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        ci = [mean - half, mean + half]
    top = sum(1 for s in scores if s >= 4) / n
    return {"n": n, "mean": mean, "sd": sd, "ci": ci, "top_box": top, "suppressed": False}


def welch(other, customers):
    value = math.fsum(other) / len(other) - math.fsum(customers) / len(customers)
    top = sum(s >= 4 for s in other) / len(other) - sum(s >= 4 for s in customers) / len(customers)
    va, vb = statistics.variance(other) / len(other), statistics.variance(customers) / len(customers)
    if va + vb == 0:
        return {"value": value, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": top}
    df = (va + vb) ** 2 / (va**2 / (len(other) - 1) + vb**2 / (len(customers) - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    p = 2 * stats.t.sf(abs(value) / math.sqrt(va + vb), df)  # = scipy's ttest_ind(equal_var=False)
    return {"value": value, "ci": [value - half, value + half], "p": float(p), "p_adjusted": None, "top_box_gap": top}


def adjust_like_scipy(expected):
    """p_adjusted of every gap: scipy's Benjamini-Hochberg over all the tests of the report, groups included."""
    gaps = [cell[key] for body in (expected, *expected["groups"]) for cell in body["dimensions"] + body["items"]
            for key in ("gap", "leader_gap") if cell[key]["p"] is not None]
    for gap, adjusted in zip(gaps, stats.false_discovery_control([gap["p"] for gap in gaps], method="bh"),
                             strict=True):
        gap["p_adjusted"] = float(adjusted)
    return expected


def collect(rows, cells):
    """Per cell: {perspective: [respondent scores]}, [staff predicted scores]; and overall scores."""
    per_cell = []
    for keys in cells.values():
        scores = {p: [] for p in PERSPECTIVES}
        predicted = []
        for row in rows:
            value = score([row["answers"][k] for k in keys if k in row["answers"]])
            if value is not None:
                scores[row["perspective"]].append(value)
            guess = score([row["predictions"][k] for k in keys if k in row["predictions"]])
            if guess is not None and row["perspective"] == "staff":
                predicted.append(guess)
        per_cell.append((scores, predicted))
    overall = {p: [] for p in PERSPECTIVES}
    for row in rows:
        value = score(list(row["answers"].values()))
        if value is not None:
            overall[row["perspective"]].append(value)
    return per_cell, overall


def body(data, cell_flags, overall_flags, cells):
    per_cell, overall = data
    out_cells = []
    for (scores, predicted), flags in zip(per_cell, cell_flags, strict=True):
        floats = {p: [float(s) for s in scores[p]] for p in PERSPECTIVES}
        cell = {p: describe(floats[p], flags[p]) for p in PERSPECTIVES}
        for name, other in (("gap", "staff"), ("leader_gap", "leader")):
            cell[name] = NULL_GAP if flags[other] or flags["customer"] else welch(floats[other], floats["customer"])
        calibration = None  # the predictions are a side of their own: fewer than min_n predictors hide it
        if not (flags["customer"] or flags["staff"] or flags["predicted"]) and predicted:
            calibration = math.fsum(map(float, predicted)) / len(predicted) - cell["customer"]["mean"]
        cell["calibration"] = calibration
        out_cells.append(cell)
    care = {p: None if overall_flags[p] else (math.fsum(map(float, overall[p])) / len(overall[p]) - 1) * 25
            for p in PERSPECTIVES}
    customers = overall["customer"]
    rate = None if overall_flags["customer"] else sum(s <= 2 for s in customers) / len(customers)
    return out_cells, care, rate, {p: len(overall[p]) for p in PERSPECTIVES}


def expected_report(truth, cells, cell_labels, *, min_n, team=None, by=None, month_from=None, month_to=None):
    rows = [r for r in truth if team is None or r["team"] == team]
    rows = [r for r in rows if (month_from is None or f"{r['at']:%Y-%m}" >= month_from)
            and (month_to is None or f"{r['at']:%Y-%m}" <= month_to)]

    def dump(result):
        out_cells, care, rate, respondents = result
        listed = [label | cell for label, cell in zip(cell_labels, out_cells, strict=True)]
        dims = [c for c in listed if "name" in c]
        return {"dimensions": dims, "items": [c for c in listed if "dimension" in c], "care_index": care,
                "indifference_rate": rate, "respondents": respondents}

    top_data = collect(rows, cells)
    top_flags = [{p: is_small(len(scores[p]), min_n) for p in PERSPECTIVES}
                 | {"predicted": is_small(len(guesses), min_n)} for scores, guesses in top_data[0]]
    report = {"survey": "random", "min_n": min_n,
              "filters": {"team": team, "by": by, "from": month_from, "to": month_to},
              **dump(body(top_data, top_flags, {p: is_small(len(top_data[1][p]), min_n) for p in PERSPECTIVES},
                          cells)), "groups": []}
    if by == "team":
        labels = [team] if team else sorted({r["team"] for r in truth if r["team"]})
        members = [[r for r in rows if r["team"] == label] for label in labels]
    elif by == "month":
        months = sorted({f"{r['at']:%Y-%m}" for r in rows})
        labels = []
        year, month = map(int, months[0].split("-"))
        while f"{year:04d}-{month:02d}" <= months[-1]:
            labels.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        members = [[r for r in rows if f"{r['at']:%Y-%m}" == label] for label in labels]
    else:
        return report
    data = [collect(group_rows, cells) for group_rows in members]
    flags = [[{} for _ in range(len(cells))] for _ in data]
    overall_flags = [{} for _ in data]
    for p in PERSPECTIVES:
        for index in range(len(cells)):
            column = complementary([len(d[0][index][0][p]) for d in data], min_n)
            for position, flag in enumerate(column):
                flags[position][index][p] = flag
        for position, flag in enumerate(complementary([len(d[1][p]) for d in data], min_n)):
            overall_flags[position][p] = flag
    for index in range(len(cells)):
        for position, flag in enumerate(complementary([len(d[0][index][1]) for d in data], min_n)):
            flags[position][index]["predicted"] = flag
    report["groups"] = [{by: label, **dump(body(d, f, o, cells))}
                        for label, d, f, o in zip(labels, data, flags, overall_flags, strict=True)]
    return report


@pytest.fixture
def random_survey(app, db, runner, tmp_path):
    # The reference computes from every row, so every answer is published at once: batches of one
    # (MIN_N = 1; each report passes its own --min-n). Batches of MIN_N: test_publication_batches.py.
    app.config["MIN_N"] = 1
    make_survey("random", items=items_by_key(db, ITEM_KEYS))
    truth, header, cells = random_rows(random.Random(20261124), 400)
    result = runner.invoke(args=["import-responses", write_csv(tmp_path / "random.csv", header, cells),
                                 "--survey", "random", "--create-teams"])
    assert result.exit_code == 0, result.output
    rows = db.session.execute(
        select(Item.key, Dimension.key, Dimension.name).join(Dimension)
        .where(Item.key.in_(ITEM_KEYS)).order_by(Dimension.position, Item.position)
    ).all()
    cell_keys, labels = {}, []
    for _item, dimension, name in rows:
        if ("d", dimension) not in cell_keys:
            cell_keys[("d", dimension)] = [k for k, d, _ in rows if d == dimension]
            labels.append({"key": dimension, "name": name})
    for item, dimension, _name in rows:
        cell_keys[("i", item)] = [item]
        labels.append({"key": item, "dimension": dimension})
    return truth, cell_keys, labels


@pytest.mark.parametrize(
    "options",
    [
        {"min_n": 5},
        {"min_n": 5, "by": "team"},
        {"min_n": 3, "by": "month"},
        {"min_n": 5, "team": "Alpha", "by": "month"},
        {"min_n": 4, "team": "Beta", "by": "team", "month_from": "2026-02", "month_to": "2026-05"},
        {"min_n": 5, "month_from": "2026-03"},
        # The roll-up cells (every month of one team, every team by month) against the same truth.
        {"min_n": 3, "team": "Gamma"},
        {"min_n": 4, "by": "team", "month_to": "2026-04"},
    ],
)
def test_report_matches_plain_python(random_survey, runner, options):
    truth, cells, labels = random_survey
    args = ["--survey", "random", "--min-n", str(options["min_n"])]
    for option, flag in (("team", "--team"), ("by", "--by"), ("month_from", "--from"), ("month_to", "--to")):
        if option in options:
            args += [flag, options[option]]
    actual = gap_json(runner, *args)
    assert actual.pop("waiting") == {"customer": 0, "staff": 0, "leader": 0}  # every answer is published
    expected = adjust_like_scipy(expected_report(truth, cells, labels, **options))
    if "respondents" not in actual:  # an extra the JSON contract does not require
        for body_ in (expected, *expected["groups"]):
            body_.pop("respondents")
    assert_close(actual, expected, rel=1e-9, abs_=1e-9)
    # The data exercise the interesting paths: real Welch tests, shown and suppressed groups.
    assert any(cell["gap"]["p"] is not None for cell in actual["dimensions"] + actual["items"])
    if len(actual["groups"]) > 1:
        cells_ = [cell[p] for group in actual["groups"] for cell in group["dimensions"] for p in PERSPECTIVES]
        assert {cell["suppressed"] for cell in cells_} == {True, False}
    if options.get("by") == "month" and "month_from" not in options:
        assert "2026-04" in [group["month"] for group in actual["groups"]]  # the empty month is listed
