"""Publication in batches (perception/insights/publication.py): the pure rule."""

import pytest

from perception.insights import answer_pattern, batches, batches_by_pattern, waiting_sentence

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)


def test_complete_batches_are_dated_by_their_last_answer_and_the_rest_waits():
    pending = [(1, 10), (2, 30), (3, 20), (4, 40), (5, 50), (6, 60), (7, 70)]
    assert batches(pending, 3) == [(30, [1, 2, 3]), (60, [4, 5, 6])]
    assert batches(pending[:2], 3) == []
    assert batches([], 5) == []
    assert batches(pending[:5], 5) == [(50, [1, 2, 3, 4, 5])]


def test_each_batch_holds_answers_of_one_pattern_and_the_rest_of_each_waits():
    full, skipped = answer_pattern([3, 1, 2], [], True), answer_pattern([2, 3], [], True)
    pending = [(1, 10, full), (2, 20, skipped), (3, 30, full), (4, 40, full), (5, 50, skipped), (6, 60, skipped),
               (7, 70, full), (8, 80, skipped)]
    assert batches_by_pattern(pending, 3) == [(40, [1, 3, 4]), (60, [2, 5, 6])]
    assert batches_by_pattern([entry for entry in pending if entry[2] == full], 3) == [(40, [1, 3, 4])]
    assert batches_by_pattern([], 3) == []


def test_an_answer_pattern_is_what_was_answered_predicted_and_recommended_in_any_order():
    assert answer_pattern([3, 1, 2], (5, 4), 1) == answer_pattern((1, 2, 3), [4, 5], True) == ((1, 2, 3), (4, 5), True)
    assert answer_pattern([1, 2], [], True) != answer_pattern([1, 2], [], False)
    assert answer_pattern([1, 2], [1], False) != answer_pattern([1, 2], [], False)
    assert answer_pattern([1, 2], [], False) != answer_pattern([1], [2], False)


def test_a_batch_size_of_one_publishes_every_answer_at_once():
    assert batches([(1, "a"), (2, "b")], 1) == [("a", [1]), ("b", [2])]


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="min_n"):
        batches([(1, 1)], 0)


def test_the_waiting_sentence_names_counts_per_perspective_in_plain_words():
    assert waiting_sentence({"customer": 0, "staff": 0, "leader": 0}, 5) is None
    assert waiting_sentence({}, 5) is None
    assert waiting_sentence({"customer": 7}, 5) == (
        "7 customer answers wait for their group of 5 before they count: answers enter the figures five at a "
        "time, so nobody's answers can be picked out by comparing two reports.")
    assert waiting_sentence({"customer": 1}, 5).startswith("1 customer answer waits for their group of 5")
    assert waiting_sentence({"customer": 2, "staff": 1, "leader": 3}, 12).startswith(
        "2 customer answers, 1 staff rating and 3 leader ratings wait for their group of 12")
    assert "figures 12 at a time" in waiting_sentence({"staff": 3}, 12)
