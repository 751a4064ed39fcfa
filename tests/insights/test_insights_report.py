"""The gap report: JSON shape, anonymity rules, and an independent recomputation from raw answers."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from perception.insights import (
    DimensionSpec,
    GroupInput,
    ItemSpec,
    Response,
    build_gap_report,
    complementary_suppression,
    group_input_from_responses,
    histogram,
)

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

DIMENSIONS = (DimensionSpec("trust", "Trust", ("t1", "t2")), DimensionSpec("respect", "Respect", ("r1",)))
ITEMS = (ItemSpec("t1", "trust"), ItemSpec("t2", "trust"), ItemSpec("r1", "respect"))
PERSPECTIVES = ("customer", "staff", "leader")
CELL_KEYS = ["customer", "staff", "leader", "gap", "leader_gap", "calibration"]
STATS_KEYS = ["n", "mean", "sd", "ci", "top_box", "suppressed"]
GAP_KEYS = ["value", "ci", "p", "p_adjusted", "top_box_gap"]
NULL_GAP = dict.fromkeys(GAP_KEYS)


def customers(*scores: Sequence[int | None]) -> list[Response]:
    return [Response("customer", dict(zip(("t1", "t2", "r1"), s, strict=False))) for s in scores]


def staff(*scores: Sequence[int | None], predicted: Sequence[int | None] = ()) -> list[Response]:
    return [
        Response(
            "staff",
            dict(zip(("t1", "t2", "r1"), s, strict=False)),
            dict(zip(("t1", "t2", "r1"), predicted, strict=False)),
        )
        for s in scores
    ]


def leaders(*scores: Sequence[int | None]) -> list[Response]:
    return [Response("leader", dict(zip(("t1", "t2", "r1"), s, strict=False))) for s in scores]


def report(responses: list[Response], min_n: int = 5, **kwargs: object) -> dict:
    data = group_input_from_responses(responses, DIMENSIONS)
    result = build_gap_report(survey="wave-1", dimensions=DIMENSIONS, items=ITEMS, overall=data, min_n=min_n, **kwargs)
    as_dict = result.to_dict()
    json.dumps(as_dict, allow_nan=False)  # never NaN or infinity
    return as_dict


# ----------------------------------------------------------------------------- inputs


def test_group_input_from_responses_hand_worked() -> None:
    # customer A: t1 4, t2 5, r1 -> trust (9, 2), respect none, overall (9, 2)
    # customer B: t1 -, t2 2, r1 1 -> trust (2, 1), respect (1, 1), overall (3, 2)
    # staff: t1 3, predictions t1 5, t2 4 -> predicted trust (9, 2)
    data = group_input_from_responses(customers((4, 5, None), (None, 2, 1)) + staff((3,), predicted=(5, 4)), DIMENSIONS)
    assert data.dimension_scores[("customer", "trust")] == {(9, 2): 1, (2, 1): 1}
    assert data.dimension_scores[("customer", "respect")] == {(1, 1): 1}
    assert data.item_scores[("customer", "t2")] == {(5, 1): 1, (2, 1): 1}
    assert data.overall_scores["customer"] == {(9, 2): 1, (3, 2): 1}
    assert data.predicted_dimension_scores == {"trust": {(9, 2): 1}}
    assert data.predicted_item_scores == {"t1": {(5, 1): 1}, "t2": {(4, 1): 1}}
    assert ("staff", "respect") not in data.dimension_scores


def test_group_input_rejects_unknown_perspective() -> None:
    with pytest.raises(ValueError, match="known perspective"):
        GroupInput(dimension_scores={("client", "trust"): {(4, 1): 1}})
    with pytest.raises(ValueError, match="unknown perspective"):
        GroupInput(overall_scores={"boss": {(4, 1): 1}})
    with pytest.raises(ValueError, match="unknown perspective"):
        Response("boss", {})


# ----------------------------------------------------------------------------- shape


def test_json_shape_and_order() -> None:
    result = report(customers((4, 4, 4)) * 5, filters={"team": "North", "period": None})
    assert list(result) == [
        "survey",
        "min_n",
        "filters",
        "dimensions",
        "items",
        "care_index",
        "respondents",
        "indifference_rate",
        "groups",
    ]
    assert result["survey"] == "wave-1" and result["min_n"] == 5
    assert result["filters"] == {"team": "North", "period": None}
    assert result["groups"] == []
    assert [(d["key"], d["name"]) for d in result["dimensions"]] == [("trust", "Trust"), ("respect", "Respect")]
    assert [(i["key"], i["dimension"]) for i in result["items"]] == [
        ("t1", "trust"),
        ("t2", "trust"),
        ("r1", "respect"),
    ]
    for cell in result["dimensions"]:
        assert list(cell) == ["key", "name", *CELL_KEYS]
    for cell in result["items"]:
        assert list(cell) == ["key", "dimension", *CELL_KEYS]
    for cell in result["dimensions"] + result["items"]:
        for p in PERSPECTIVES:
            assert list(cell[p]) == STATS_KEYS
        assert list(cell["gap"]) == GAP_KEYS and list(cell["leader_gap"]) == GAP_KEYS
    assert list(result["care_index"]) == list(PERSPECTIVES)
    assert result["respondents"] == {"customer": 5, "staff": 0, "leader": 0}


def test_hand_worked_report() -> None:
    # min_n = 2.  Trust scores (mean of t1, t2):
    #   customers (2, 3) -> 2.5, (3, 3) -> 3, (2, 2) -> 2: mean 7.5 / 3 = 2.5, var (0 + .25 + .25) / 2 = .25
    #   staff (4, 5) -> 4.5, (4, 4) -> 4: mean 4.25, var (.0625 * 2) / 1 = .125; predictions 3 and 3 -> 3
    #   leaders (5, 5) -> 5, (5, -) -> 5: mean 5, sd 0
    # gap = 4.25 - 2.5 = 1.75; top box 2/2 - 0/3 = 1.  leader_gap = 2.5, Welch with one sd 0.
    # calibration = 3 - 2.5 = 0.5.
    # care index: customers' overall = trust items plus r1 (none here) -> mean 2.5 -> 37.5;
    #   staff 4.25 -> 81.25; leaders 5 -> 100.  indifference: 2.0 <= 2 -> 1/3.
    responses = (
        customers((2, 3), (3, 3), (2, 2))
        + staff((4, 5), predicted=(3, 3))
        + staff((4, 4), predicted=(3, None))
        + leaders((5, 5), (5, None))
    )
    result = report(responses, min_n=2)
    trust = result["dimensions"][0]
    assert trust["customer"]["n"] == 3 and trust["customer"]["mean"] == 2.5
    assert trust["customer"]["sd"] == 0.5 and trust["customer"]["top_box"] == 0.0
    assert trust["staff"]["mean"] == 4.25 and trust["staff"]["sd"] == math.sqrt(0.125)
    assert trust["leader"]["sd"] == 0.0 and trust["leader"]["ci"] == [5.0, 5.0]
    assert trust["gap"]["value"] == 1.75 and trust["gap"]["top_box_gap"] == 1.0
    welch = stats.ttest_ind([4.5, 4.0], [2.5, 3.0, 2.0], equal_var=False)
    assert math.isclose(trust["gap"]["p"], welch.pvalue, rel_tol=1e-9)
    assert trust["leader_gap"]["value"] == 2.5
    # leaders have sd 0, so SE^2 = .25 / 3 and df = n_customers - 1 = 2.
    half = stats.t.ppf(0.975, 2) * math.sqrt(0.25 / 3)
    assert math.isclose(trust["leader_gap"]["ci"][0], 2.5 - half, rel_tol=1e-9)
    assert trust["calibration"] == 0.5
    respect = result["dimensions"][1]
    assert respect["customer"]["n"] == 0 and respect["customer"]["suppressed"] is True
    assert respect["gap"] == NULL_GAP and respect["calibration"] is None
    assert result["care_index"] == {"customer": 37.5, "staff": 81.25, "leader": 100.0}
    assert result["indifference_rate"] == 1 / 3
    assert result["respondents"] == {"customer": 3, "staff": 2, "leader": 2}


# ----------------------------------------------------------------------------- suppression


def test_small_staff_cell_is_suppressed() -> None:
    # 5 customers, 4 staff, 5 leaders, min_n 5: staff figures, gap and calibration are null,
    # the leader gap is not.
    responses = customers(*[(3, 3, 3)] * 5) + staff(*[(4, 4, 4)] * 4, predicted=(4, 4, 4)) + leaders(*[(5, 4, 5)] * 5)
    result = report(responses)
    for cell in result["dimensions"] + result["items"]:
        assert cell["staff"] == {
            "n": 4,
            "mean": None,
            "sd": None,
            "ci": None,
            "top_box": None,
            "suppressed": True,
        }
        assert cell["gap"] == NULL_GAP
        assert cell["calibration"] is None
        assert cell["leader_gap"]["value"] is not None
        assert cell["leader_gap"]["p"] is None  # both sds are 0
    assert result["care_index"]["staff"] is None
    assert result["care_index"]["customer"] == 50.0
    assert result["indifference_rate"] == 0.0


def test_small_customer_cell_nulls_every_gap() -> None:
    responses = customers(*[(1, 1, 1)] * 4) + staff(*[(4, 4, 4)] * 6) + leaders(*[(5, 4, 5)] * 6)
    result = report(responses)
    for cell in result["dimensions"] + result["items"]:
        assert cell["customer"]["suppressed"] and cell["customer"]["n"] == 4
        assert cell["gap"] == NULL_GAP and cell["leader_gap"] == NULL_GAP
        assert cell["staff"]["suppressed"] is False
    assert result["indifference_rate"] is None and result["care_index"]["customer"] is None


def test_min_n_1_shows_single_respondents() -> None:
    result = report(customers((5, 4, None)) + staff((2, 2, None), predicted=(4, 4)), min_n=1)
    trust = result["dimensions"][0]
    assert trust["customer"] == {"n": 1, "mean": 4.5, "sd": None, "ci": None, "top_box": 1.0, "suppressed": False}
    assert trust["gap"] == {"value": -2.5, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": -1.0}
    assert trust["calibration"] == -0.5
    assert trust["leader"]["suppressed"] is True  # n = 0 is always suppressed
    assert trust["leader_gap"] == NULL_GAP
    assert result["care_index"] == {"customer": 87.5, "staff": 25.0, "leader": None}


def test_dimension_answered_by_one_perspective_only() -> None:
    result = report(customers(*[(None, None, 4)] * 6), min_n=5)
    respect, trust = result["dimensions"][1], result["dimensions"][0]
    assert respect["customer"]["mean"] == 4.0 and respect["staff"]["suppressed"]
    assert respect["gap"] == NULL_GAP and respect["calibration"] is None
    # No answer at all to trust: n = 0 everywhere, all suppressed, nothing NaN.
    for p in PERSPECTIVES:
        assert trust[p] == {"n": 0, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    assert result["respondents"] == {"customer": 6, "staff": 0, "leader": 0}


def test_respondents_without_mirrored_answers_are_not_counted() -> None:
    result = report(customers(*[(None, None, None)] * 7) + customers(*[(2, 2, 2)] * 5))
    assert result["respondents"]["customer"] == 5
    assert result["indifference_rate"] == 1.0 and result["care_index"]["customer"] == 25.0


def test_empty_survey() -> None:
    result = report([])
    assert result["care_index"] == {"customer": None, "staff": None, "leader": None}
    assert result["indifference_rate"] is None


def test_calibration_needs_predictions() -> None:
    responses = customers(*[(3, 3, 3)] * 5) + staff(*[(4, 4, 4)] * 5)
    assert all(cell["calibration"] is None for cell in report(responses)["dimensions"])


def test_calibration_needs_min_n_staff_who_predicted() -> None:
    """Five customers and five staff, but only one staff member guessed: the calibration (the mean
    guess minus the customers' mean) would be that one person's guesses, so it is withheld."""
    one_guess = customers(*[(3, 3, 3)] * 5) + staff((4, 4, 4), predicted=(1, 1, 1)) + staff(*[(4, 4, 4)] * 4)
    trust = report(one_guess)["dimensions"][0]
    assert trust["staff"]["suppressed"] is False and trust["calibration"] is None
    five_guesses = customers(*[(3, 3, 3)] * 5) + staff(*[(4, 4, 4)] * 5, predicted=(2, 2, 2))
    assert report(five_guesses)["dimensions"][0]["calibration"] == -1.0


def test_calibration_keeps_complementary_suppression_across_groups() -> None:
    """Team B's two guessers are withheld; team A's five would give B's away (the whole minus A), so
    A's calibration is withheld as well. The whole survey's seven guessers are shown."""
    team_a = customers(*[(3, 3, 3)] * 5) + staff(*[(4, 4, 4)] * 5, predicted=(2, 2, 2))
    team_b = (customers(*[(3, 3, 3)] * 5) + staff(*[(4, 4, 4)] * 2, predicted=(5, 5, 5))
              + staff(*[(4, 4, 4)] * 3))
    result = grouped([("A", team_a), ("B", team_b)])
    assert [group["dimensions"][0]["calibration"] for group in result["groups"]] == [None, None]
    assert all(not group["dimensions"][0]["staff"]["suppressed"] for group in result["groups"])
    assert result["dimensions"][0]["calibration"] == float(Fraction(5 * 2 + 2 * 5, 7) - 3)


# ----------------------------------------------------------------------------- complementary suppression


def test_complementary_suppression_rule() -> None:
    # min_n 5.  [3, 10, 7, 0]: 3 is small; hidden total 3 < 5, so the smallest shown group (7) goes too.
    # The empty group is suppressed but protects nobody (it has no respondent to reveal).
    assert complementary_suppression([3, 10, 7, 0], 5) == [True, False, True, True]
    # 3 + 4 = 7 >= 5: the small groups protect each other.
    assert complementary_suppression([3, 4, 10], 5) == [True, True, False]
    # Tie on the smallest shown group: the first in order is suppressed.
    assert complementary_suppression([8, 2, 8], 5) == [True, True, False]
    # Only one other group: it goes too.
    assert complementary_suppression([9, 1], 5) == [True, True]
    # Nothing small, or only empty groups: nothing more to hide.
    assert complementary_suppression([5, 6, 0], 5) == [False, False, True]
    assert complementary_suppression([], 5) == []
    # Everything small: nothing shown, nothing to add.
    assert complementary_suppression([1, 2], 5) == [True, True]
    # min_n 1: only empty groups are suppressed and they trigger nothing.
    assert complementary_suppression([0, 1, 2], 1) == [True, False, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=8), st.integers(1, 8))
def test_complementary_suppression_properties(counts: list[int], min_n: int) -> None:
    flags = complementary_suppression(counts, min_n)
    small = [n < min_n or n == 0 for n in counts]
    assert all(f for f, s in zip(flags, small, strict=True) if s)  # every small group stays suppressed
    assert sum(flags) - sum(small) <= 1  # one extra group always suffices (it has >= min_n)
    hidden = sum(n for n, f in zip(counts, flags, strict=True) if f)
    shown = [n for n, f in zip(counts, flags, strict=True) if not f and n > 0]
    # No suppressed respondents can be recovered by differencing unless they are >= min_n together.
    assert hidden == 0 or hidden >= min_n or not shown
    assert flags == reference_flags(counts, min_n, grouped_cells=True)


def grouped(groups: list[tuple[str, list[Response]]], min_n: int = 5, by: str = "team") -> dict:
    everyone = [r for _, responses in groups for r in responses]
    inputs = [(label, group_input_from_responses(responses, DIMENSIONS)) for label, responses in groups]
    return report(everyone, min_n=min_n, group_by=by, groups=inputs)


def test_grouped_report_complementary_suppression_hand_worked() -> None:
    # Customers per team: North 3, South 10, East 7, West 0 (min_n 5).
    # North is small; to stop North = total - South - East, East (the smallest shown) is suppressed.
    # Staff: North 6, South 6, East 6, West 6: nobody small, nothing suppressed.
    teams = [
        ("North", customers(*[(4, 4, 4)] * 3) + staff(*[(5, 5, 5)] * 6)),
        ("South", customers(*[(2, 3, 2)] * 10) + staff(*[(5, 4, 5)] * 6)),
        ("East", customers(*[(3, 3, 3)] * 7) + staff(*[(4, 4, 4)] * 6)),
        ("West", staff(*[(3, 4, 5)] * 6)),
    ]
    result = grouped(teams)
    assert [g["team"] for g in result["groups"]] == ["North", "South", "East", "West"]
    assert list(result["groups"][0]) == [
        "team",
        "dimensions",
        "items",
        "care_index",
        "respondents",
        "indifference_rate",
    ]
    for cell_index in range(2):
        flags = [g["dimensions"][cell_index]["customer"]["suppressed"] for g in result["groups"]]
        assert flags == [True, False, True, True]
        counts = [g["dimensions"][cell_index]["customer"]["n"] for g in result["groups"]]
        assert counts == [3, 10, 7, 0]
        east = result["groups"][2]["dimensions"][cell_index]
        assert east["customer"]["mean"] is None and east["gap"] == NULL_GAP
        assert east["staff"]["mean"] == 4.0  # staff in East are not affected
    # South customers answer 2, 3, 2: overall 7/3 each -> (7/3 - 1) / 4 * 100 = 100/3; 7/3 > 2, not indifferent.
    assert [g["care_index"]["customer"] for g in result["groups"]] == [None, 100 / 3, None, None]
    assert [g["indifference_rate"] for g in result["groups"]] == [None, 0.0, None, None]
    assert [g["care_index"]["staff"] is None for g in result["groups"]] == [False] * 4
    # The top level is not grouped: 20 customers, nothing suppressed.
    assert result["dimensions"][0]["customer"]["n"] == 20
    assert result["dimensions"][0]["customer"]["suppressed"] is False


def test_grouped_by_month_reports_every_group() -> None:
    result = grouped([("2024-01", customers((1, 1, 1))), ("2024-02", [])], by="month")
    assert [g["month"] for g in result["groups"]] == ["2024-01", "2024-02"]
    assert result["groups"][1]["respondents"] == {"customer": 0, "staff": 0, "leader": 0}


def test_report_argument_validation() -> None:
    data = GroupInput()
    with pytest.raises(ValueError, match="min_n"):
        build_gap_report(survey="s", dimensions=DIMENSIONS, items=ITEMS, overall=data, min_n=0)
    with pytest.raises(ValueError, match="group_by must be one of"):
        build_gap_report(survey="s", dimensions=DIMENSIONS, items=ITEMS, overall=data, group_by="week")
    with pytest.raises(ValueError, match="without group_by"):
        build_gap_report(survey="s", dimensions=DIMENSIONS, items=ITEMS, overall=data, groups=[("a", data)])
    with pytest.raises(ValueError, match="unknown dimensions: nope"):
        build_gap_report(survey="s", dimensions=DIMENSIONS, items=[ItemSpec("x", "nope")], overall=data)
    with pytest.raises(ValueError, match="duplicate dimension keys"):
        build_gap_report(survey="s", dimensions=DIMENSIONS * 2, items=(), overall=data)


def test_histograms_for_unknown_keys_are_ignored() -> None:
    data = GroupInput(dimension_scores={("customer", "other"): {(4, 1): 9}}, item_scores={})
    result = build_gap_report(survey="s", dimensions=DIMENSIONS, items=ITEMS, overall=data).to_dict()
    assert all(cell["customer"]["n"] == 0 for cell in result["dimensions"])


def test_report_accepts_plain_histograms() -> None:
    data = GroupInput(
        dimension_scores={("customer", "trust"): histogram([[2, 3]] * 5), ("staff", "trust"): {(9, 2): 5}},
        predicted_dimension_scores={"trust": {(8, 2): 5}},
        overall_scores={"customer": {(5, 2): 5}},
    )
    result = build_gap_report(survey="s", dimensions=DIMENSIONS[:1], items=(), overall=data).to_dict()
    trust = result["dimensions"][0]
    assert trust["gap"] == {"value": 2.0, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": 1.0}
    assert trust["calibration"] == 1.5
    assert result["care_index"]["customer"] == 37.5 and result["indifference_rate"] == 0.0


# ----------------------------------------------------------------------------- independent recomputation

answer = st.one_of(st.none(), st.integers(1, 5))


def responses_of(perspective: str) -> st.SearchStrategy[list[Response]]:
    one = st.builds(
        Response,
        perspective=st.just(perspective),
        answers=st.fixed_dictionaries({"t1": answer, "t2": answer, "r1": answer}),
        predictions=st.fixed_dictionaries({"t1": answer, "t2": answer, "r1": answer}),
    )
    return st.integers(0, 9).flatmap(lambda k: st.lists(one, min_size=k, max_size=k))


team = st.tuples(*(responses_of(p) for p in PERSPECTIVES)).map(lambda parts: [r for part in parts for r in part])
teams = st.lists(team, min_size=1, max_size=4)


def score(response: Response, keys: Sequence[str], predicted: bool = False) -> float | None:
    source = response.predictions if predicted else response.answers
    answered = [source[k] for k in keys if source.get(k) is not None]
    return sum(answered) / len(answered) if answered else None  # type: ignore[arg-type]


def reference_flags(counts: list[int], min_n: int, grouped_cells: bool) -> list[bool]:
    flags = [n < min_n or n == 0 for n in counts]
    if not grouped_cells:
        return flags
    while True:
        hidden = sum(n for n, f in zip(counts, flags, strict=True) if f and n > 0)
        shown = [i for i, (n, f) in enumerate(zip(counts, flags, strict=True)) if not f and n > 0]
        if hidden == 0 or hidden >= min_n or not shown:
            return flags
        flags[min(shown, key=lambda i: (counts[i], i))] = True


def reference_stats(values: list[float], suppressed: bool) -> dict:
    n = len(values)
    if suppressed:
        return {"n": n, "mean": None, "sd": None, "ci": None, "top_box": None, "suppressed": True}
    mean = float(np.mean(values))
    sd = ci = None
    if n >= 2:
        sd = float(np.std(values, ddof=1))
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        ci = [mean - half, mean + half]
    top = sum(v >= 4.0 for v in values) / n
    return {"n": n, "mean": mean, "sd": sd, "ci": ci, "top_box": top, "suppressed": False}


def reference_gap(other: list[float], base: list[float], suppressed: bool) -> dict:
    if suppressed:
        return dict(NULL_GAP)
    value = float(np.mean(other) - np.mean(base))
    top = sum(v >= 4 for v in other) / len(other) - sum(v >= 4 for v in base) / len(base)
    if len(other) < 2 or len(base) < 2 or (np.ptp(other) == 0 and np.ptp(base) == 0):
        return {"value": value, "ci": None, "p": None, "p_adjusted": None, "top_box_gap": top}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        test = stats.ttest_ind(other, base, equal_var=False)
    low, high = test.confidence_interval(0.95)
    return {"value": value, "ci": [float(low), float(high)], "p": float(test.pvalue), "p_adjusted": None,
            "top_box_gap": top}


def with_adjusted_p(expected: dict) -> dict:
    """Set p_adjusted on every gap of a reference report: scipy's Benjamini-Hochberg over all the
    report's p-values (top level and groups), which is how the app defines the page's tests."""
    bodies = [expected, *expected.get("groups", [])]
    gaps = [cell[key] for body in bodies for cell in (*body["dimensions"], *body["items"])
            for key in ("gap", "leader_gap") if cell[key]["p"] is not None]
    if gaps:
        adjusted = stats.false_discovery_control([gap["p"] for gap in gaps], method="bh")
        for gap, value in zip(gaps, adjusted, strict=True):
            gap["p_adjusted"] = float(value)
    return expected


def reference_body(groups: list[list[Response]], min_n: int, grouped_cells: bool) -> list[dict]:
    """DESIGN section 2 straight from raw answers, one body per group."""
    cells = [(d.key, d.item_keys, {"name": d.name}) for d in DIMENSIONS]
    cells += [(i.key, (i.key,), {"dimension": i.dimension}) for i in ITEMS]
    all_keys = ("t1", "t2", "r1")
    bodies: list[dict] = [{"dimensions": [], "items": []} for _ in groups]
    for key, keys, extra in cells:
        values = [
            {p: [s for r in g if r.perspective == p and (s := score(r, keys)) is not None] for p in PERSPECTIVES}
            for g in groups
        ]
        predicted = [
            [s for r in g if r.perspective == "staff" and (s := score(r, keys, True)) is not None] for g in groups
        ]
        flags = {p: reference_flags([len(v[p]) for v in values], min_n, grouped_cells) for p in PERSPECTIVES}
        # The predictions are a side of their own: fewer than min_n staff who made them hide the calibration.
        predicted_flags = reference_flags([len(p) for p in predicted], min_n, grouped_cells)
        for index, body in enumerate(bodies):
            f = {p: flags[p][index] for p in PERSPECTIVES}
            v = values[index]
            calibration = None
            if not (f["customer"] or f["staff"] or predicted_flags[index]) and predicted[index]:
                calibration = float(np.mean(predicted[index]) - np.mean(v["customer"]))
            cell = {"key": key, **extra}
            cell |= {p: reference_stats(v[p], f[p]) for p in PERSPECTIVES}
            cell["gap"] = reference_gap(v["staff"], v["customer"], f["staff"] or f["customer"])
            cell["leader_gap"] = reference_gap(v["leader"], v["customer"], f["leader"] or f["customer"])
            cell["calibration"] = calibration
            body["dimensions" if "name" in extra else "items"].append(cell)
    overall = [
        {p: [s for r in g if r.perspective == p and (s := score(r, all_keys)) is not None] for p in PERSPECTIVES}
        for g in groups
    ]
    flags = {p: reference_flags([len(o[p]) for o in overall], min_n, grouped_cells) for p in PERSPECTIVES}
    for index, body in enumerate(bodies):
        o = overall[index]
        body["care_index"] = {
            p: None if flags[p][index] else (float(np.mean(o[p])) - 1) / 4 * 100 for p in PERSPECTIVES
        }
        body["respondents"] = {p: len(o[p]) for p in PERSPECTIVES}
        body["indifference_rate"] = (
            None if flags["customer"][index] else sum(s <= 2.0 for s in o["customer"]) / len(o["customer"])
        )
    return bodies


def assert_matches(actual: object, expected: object, path: str = "$") -> None:
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping) and list(actual) == list(expected), path
        for key in expected:
            assert_matches(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{index}]")
    elif isinstance(expected, bool) or expected is None or isinstance(expected, (int, str)):
        assert actual == expected and type(actual) is type(expected), (path, actual, expected)
    else:
        assert isinstance(actual, float), (path, actual)
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (path, actual, expected)


@settings(max_examples=60, deadline=None)
@given(teams, st.integers(1, 6))
def test_report_matches_independent_recomputation(groups: list[list[Response]], min_n: int) -> None:
    labels = [f"team-{i}" for i in range(len(groups))]
    result = grouped(list(zip(labels, groups, strict=True)), min_n=min_n)
    everyone = [r for g in groups for r in g]
    top = reference_body([everyone], min_n, grouped_cells=False)[0]
    expected = {"survey": "wave-1", "min_n": min_n, "filters": {}} | top
    expected["groups"] = [
        {"team": label} | body
        for label, body in zip(labels, reference_body(groups, min_n, grouped_cells=True), strict=True)
    ]
    assert_matches(result, with_adjusted_p(expected))
