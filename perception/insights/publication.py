"""Publication in batches: which answers enter the figures, and how pages explain the others.

No small difference (DESIGN section 2, "Privacy"): no two things the app publishes, with any
filters and at any two times, may differ by fewer than ``min_n`` respondents in any cell.
Suppressing small cells is not enough (a report with one more month, or one more answer, minus
the report without it gives that answer), so answers are *published in batches*:

- Responses are grouped by (survey, team, staff member served, perspective, whether the customer
  allowed contact when answering); responses without a team form a group of their own, and so do
  those that name no staff member.
- Within a group, responses are batched only with responses that answered the same things
  (``answer_pattern``: the items answered, the items predicted, whether the recommendation was
  given). A batch of five where one skipped an item would change that item's figures by four
  people and its dimension's by five, and the two differences together give the one answer the
  others lack (found by two reviews, with rows imported with empty items).
- In order of submission (``submitted_at``, then id), a response enters the figures once
  ``min_n`` unpublished responses of its group and pattern exist: those ``min_n`` form one batch.
- A batch is dated by its last answer (``published_at`` = the latest ``submitted_at`` in it), so
  a period filter on the publication month takes whole batches or none.

Every figure is a sum over published responses, so any two reports differ per cell by whole
batches of one group or more, and every respondent a batch adds to one cell it adds to every cell
its pattern reaches; grouped reports keep complementary suppression on top
(``suppression``). Responses waiting for their batch are counted, never shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["answer_pattern", "batches", "batches_by_pattern", "waiting_sentence"]

NOUNS = {"customer": ("customer answer", "customer answers"), "staff": ("staff rating", "staff ratings"),
         "leader": ("leader rating", "leader ratings")}
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def batches(pending: Sequence[tuple[Any, Any]], min_n: int) -> list[tuple[Any, list[Any]]]:
    """The complete batches among a group's unpublished responses.

    ``pending`` is [(id, submitted_at)] in submission order (oldest first). Returns
    [(published_at, [ids])] for each run of ``min_n`` consecutive responses, oldest first;
    ``published_at`` is the latest ``submitted_at`` of the batch. The fewer than ``min_n``
    responses left over wait for later answers of their group.
    """
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n!r}")
    complete = len(pending) - len(pending) % min_n
    result = []
    for start in range(0, complete, min_n):
        batch = pending[start:start + min_n]
        result.append((max(submitted_at for _id, submitted_at in batch), [response_id for response_id, _at in batch]))
    return result


def answer_pattern(answered: Iterable[int], predicted: Iterable[int], recommendation: bool) -> tuple:
    """What a response gave that the figures count, as batches compare it: the ids of the items it
    answered, of the items it predicted (staff), and whether it gave the recommendation (0-10, which
    the drivers use). The same whatever the order the ids come in."""
    return tuple(sorted(answered)), tuple(sorted(predicted)), bool(recommendation)


def batches_by_pattern(pending: Sequence[tuple[Any, Any, tuple]], min_n: int) -> list[tuple[Any, list[Any]]]:
    """``batches`` of a group whose responses may differ in what they answered: ``pending`` is
    [(id, submitted_at, answer_pattern)] in submission order; each batch holds responses of one
    pattern only (the module's docstring says why). Oldest batch first, as ``batches``."""
    by_pattern: dict[tuple, list[tuple[Any, Any]]] = {}
    for response_id, submitted_at, pattern in pending:
        by_pattern.setdefault(pattern, []).append((response_id, submitted_at))
    if len(by_pattern) == 1:
        return batches(next(iter(by_pattern.values())), min_n)
    found = [batch for same in by_pattern.values() for batch in batches(same, min_n)]
    return sorted(found, key=lambda batch: batch[0])


def _number(value: int) -> str:
    return NUMBERS[value] if 0 <= value < len(NUMBERS) else str(value)


def waiting_sentence(waiting: Mapping[str, int], min_n: int) -> str | None:
    """One sentence for a leader: how many answers wait for their batch and why; None when none.

    ``waiting`` maps perspectives (customer, staff, leader) to counts of unpublished responses.
    """
    parts = []
    for perspective, (one, many) in NOUNS.items():
        count = waiting.get(perspective, 0)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    if not parts:
        return None
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    verb = "waits" if sum(waiting.values()) == 1 else "wait"
    return (f"{listed} {verb} for their group of {min_n} before they count: answers enter the figures "
            f"{_number(min_n)} at a time, so nobody's answers can be picked out by comparing two reports.")
