"""Input data of the gap statistics: survey structure and score histograms.

The statistics never see raw answers.  Their unit of data is a *score
histogram* (``ScoreCounts``): a mapping ``(sum_of_item_scores,
number_of_items_answered) -> number_of_respondents``.  A respondent's score is
``sum / count`` (an exact rational), so top box (``sum >= 4 * count``),
indifference (``sum <= 2 * count``), means and variances can all be computed
exactly.  Entries with ``count < 1`` or a frequency ``< 1`` are ignored.

The database layer produces these histograms with ``GROUP BY``;
``histogram`` and ``group_input_from_responses`` build them from plain lists
for tests and small callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "PERSPECTIVES",
    "DimensionSpec",
    "GroupInput",
    "ItemSpec",
    "Response",
    "ScoreCounts",
    "group_input_from_responses",
    "histogram",
]

PERSPECTIVES = ("customer", "staff", "leader")

ScoreCounts = Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class DimensionSpec:
    """A dimension of care: stable ``key``, display ``name`` and the keys of its items."""

    key: str
    name: str
    item_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemSpec:
    """A mirrored item: stable ``key`` and the key of the dimension it belongs to."""

    key: str
    dimension: str


@dataclass(frozen=True)
class GroupInput:
    """Aggregated answers of one population (the whole survey, or one team / month).

    Missing keys mean no respondents (n = 0).

    * ``dimension_scores[(perspective, dimension_key)]``: histogram of the
      respondents' scores on the dimension (mean of their answered items in it).
    * ``item_scores[(perspective, item_key)]``: histogram of single answers
      (the count is always 1).
    * ``predicted_dimension_scores[dimension_key]``: histogram of each staff
      respondent's predicted customer scores on the dimension.
    * ``predicted_item_scores[item_key]``: histogram of staff predictions.
    * ``overall_scores[perspective]``: each respondent's (sum, count) over all
      answered mirrored items (the basis of care index and indifference rate).
    """

    dimension_scores: Mapping[tuple[str, str], ScoreCounts] = field(default_factory=dict)
    item_scores: Mapping[tuple[str, str], ScoreCounts] = field(default_factory=dict)
    predicted_dimension_scores: Mapping[str, ScoreCounts] = field(default_factory=dict)
    predicted_item_scores: Mapping[str, ScoreCounts] = field(default_factory=dict)
    overall_scores: Mapping[str, ScoreCounts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("dimension_scores", "item_scores"):
            for key in getattr(self, name):
                if not (isinstance(key, tuple) and len(key) == 2 and key[0] in PERSPECTIVES):
                    raise ValueError(f"{name}: {key!r} is not (perspective, key) with a known perspective")
        for perspective in self.overall_scores:
            if perspective not in PERSPECTIVES:
                raise ValueError(f"overall_scores: unknown perspective {perspective!r}")


def _integer(value: object, what: str) -> int:
    """An int from an int-like value (e.g. a ``Decimal`` that a SQL ``SUM`` returns)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        as_int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an integer, got {value!r}") from None
    if as_int != value:
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return as_int


def clean_counts(counts: ScoreCounts | None) -> dict[tuple[int, int], int]:
    """Validated copy of a histogram, keeping only entries with count >= 1 and frequency >= 1."""
    cleaned: dict[tuple[int, int], int] = {}
    if not counts:
        return cleaned
    for key, frequency in counts.items():
        try:
            total, count = key
        except (TypeError, ValueError):
            raise TypeError(f"histogram key must be (sum, count), got {key!r}") from None
        # Plain ints (what the database layer hands over) need no conversion: a report of
        # 2,000 teams cleans over a million entries.
        if type(total) is not int or type(count) is not int or type(frequency) is not int:
            total = _integer(total, "score sum")
            count = _integer(count, "answer count")
            frequency = _integer(frequency, "frequency")
        if count >= 1 and frequency >= 1:
            cleaned[(total, count)] = cleaned.get((total, count), 0) + frequency
    return cleaned


def histogram(scores_per_respondent: Iterable[Sequence[int | None]]) -> dict[tuple[int, int], int]:
    """Build a ``ScoreCounts`` from each respondent's list of item scores.

    ``None`` entries (unanswered items) are ignored; respondents with nothing
    answered are dropped.  ``histogram([[4, 5], [3, None], [None]])`` is
    ``{(9, 2): 1, (3, 1): 1}``.
    """
    counter: Counter[tuple[int, int]] = Counter()
    for scores in scores_per_respondent:
        answered = [_integer(score, "score") for score in scores if score is not None]
        if answered:
            counter[(sum(answered), len(answered))] += 1
    return dict(counter)


@dataclass(frozen=True)
class Response:
    """One respondent's answers: item key -> score (``None`` = unanswered)."""

    perspective: str
    answers: Mapping[str, int | None]
    predictions: Mapping[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.perspective not in PERSPECTIVES:
            raise ValueError(f"unknown perspective {self.perspective!r}")


def group_input_from_responses(responses: Iterable[Response], dimensions: Sequence[DimensionSpec]) -> GroupInput:
    """Aggregate raw responses into a ``GroupInput`` (for tests and small callers).

    Dimension membership comes from ``DimensionSpec.item_keys``; the mirrored
    items are all of those keys, and answers to any other key are ignored.
    Predictions count only for staff respondents.
    """
    item_dimension = {key: spec.key for spec in dimensions for key in spec.item_keys}
    dimension_lists: dict[tuple[str, str], list[list[int | None]]] = {}
    item_lists: dict[tuple[str, str], list[list[int | None]]] = {}
    predicted_dimension_lists: dict[str, list[list[int | None]]] = {}
    predicted_item_lists: dict[str, list[list[int | None]]] = {}
    overall_lists: dict[str, list[list[int | None]]] = {}
    for response in responses:
        perspective = response.perspective
        answers = {key: score for key, score in response.answers.items() if key in item_dimension}
        for spec in dimensions:
            scores = [answers.get(key) for key in spec.item_keys]
            dimension_lists.setdefault((perspective, spec.key), []).append(scores)
        for key, score in answers.items():
            item_lists.setdefault((perspective, key), []).append([score])
        overall_lists.setdefault(perspective, []).append(list(answers.values()))
        if perspective == "staff":
            predictions = {k: s for k, s in response.predictions.items() if k in item_dimension}
            for spec in dimensions:
                scores = [predictions.get(key) for key in spec.item_keys]
                predicted_dimension_lists.setdefault(spec.key, []).append(scores)
            for key, score in predictions.items():
                predicted_item_lists.setdefault(key, []).append([score])

    def build(lists: Mapping) -> dict:
        built = {key: histogram(value) for key, value in lists.items()}
        return {key: value for key, value in built.items() if value}

    return GroupInput(
        dimension_scores=build(dimension_lists),
        item_scores=build(item_lists),
        predicted_dimension_scores=build(predicted_dimension_lists),
        predicted_item_scores=build(predicted_item_lists),
        overall_scores=build(overall_lists),
    )
