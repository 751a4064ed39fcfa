"""Suggested support/erode tags from the word lists, and the board's ranking."""

import pytest

from perception.insights.board import DIMENSION_WORDS, EFFECT_WORDS, Moment, rank_moments, suggest_tags

pytestmark = pytest.mark.pure  # reads no database: the PostgreSQL pass leaves it out (tests/conftest.py)

BANK_DIMENSIONS = ("trust", "respect", "understanding", "appreciation", "honest_communication", "kindness",
                   "personal_attention", "attentiveness")


def first(text, dimensions=None):
    suggestions = suggest_tags(text, dimensions)
    assert suggestions, text
    return suggestions[0].effect, suggestions[0].dimension


@pytest.mark.parametrize(("text", "expected"), [
    ("I felt like a ticket number.", ("erodes", "personal_attention")),
    ("They promised a call back that never came.", ("erodes", "trust")),
    ("I was told it was my fault before anyone had even checked.", ("erodes", "respect")),
    ("I had to explain my situation three times.", ("erodes", "understanding")),
    ("Nobody told me the fee until the end.", ("erodes", "honest_communication")),
    ("The staff were rude and cold.", ("erodes", "respect")),
    ("They remembered me by name.", ("supports", "personal_attention")),
    ("Such a friendly, warm welcome.", ("supports", "kindness")),
    ("Honest about the delay.", ("supports", "honest_communication")),
    ("They thanked me for being loyal for years and I felt valued.", ("supports", "appreciation")),
])
def test_clear_comments_get_the_expected_tag(text, expected):
    assert first(text) == expected


def test_negation_flips_the_effect():
    assert first("Never made me feel stupid.")[0] == "supports"
    assert first("Nobody looked up from the screen.") == ("erodes", "attentiveness")
    assert first("Not friendly at all.")[0] == "erodes"
    assert first("I waited a long time without anyone noticing.") == ("erodes", "attentiveness")
    assert "not looked up" in suggest_tags("Nobody looked up from the screen.")[0].cues


def test_a_mixed_comment_yields_one_moment_per_clause():
    suggestions = suggest_tags("Friendly enough, but nobody told me the fee until the end.")
    assert {(s.effect, s.dimension) for s in suggestions} == {
        ("supports", "kindness"), ("erodes", "honest_communication")}


def test_strongest_suggestion_comes_first():
    suggestions = suggest_tags("Lovely. But I was passed between four people and each one started from scratch.")
    assert (suggestions[0].effect, suggestions[0].dimension, suggestions[0].strength) == ("erodes", "understanding", 2)


def test_nothing_clear_gives_no_suggestion():
    assert suggest_tags("") == ()
    assert suggest_tags(None) == ()
    assert suggest_tags("I came in on Tuesday about my account.") == ()
    assert suggest_tags("Friendly but rude.")  # two clauses, two moments: still suggestions


def test_dimension_falls_back_to_the_whole_comment_or_none():
    # the second clause names no dimension: the comment's topic (the fee) is used
    assert first("Nobody mentioned the fee. Awful.") == ("erodes", "honest_communication")
    assert first("Awful.") == ("erodes", None)


def test_only_allowed_dimensions_are_suggested():
    assert first("I felt like a ticket number.", ["trust", "respect"]) == ("erodes", None)
    assert first("Honest and kind.", ["kindness", "honest_communication"]) == ("supports", "kindness")


def test_curly_apostrophes_are_read_as_straight_ones():
    assert first("They didn\u2019t listen.")[0] == "erodes"


def test_word_lists_cover_every_bank_dimension_and_are_lowercase():
    assert set(DIMENSION_WORDS) == set(BANK_DIMENSIONS)
    for words in [*DIMENSION_WORDS.values(), *EFFECT_WORDS.values()]:
        assert all(word == word.lower().strip() for word in words)
    assert not set(EFFECT_WORDS["supports"]) & set(EFFECT_WORDS["erodes"])


def test_rank_moments_orders_by_frequency():
    moments = [Moment("erodes", "trust", 3), Moment("erodes", "respect", 5), Moment("supports", "kindness", 9),
               Moment("erodes", "attentiveness", 3), Moment("erodes", "kindness", 0)]
    assert [m.dimension for m in rank_moments(moments, "erodes")] == ["respect", "attentiveness", "trust"]
    assert [m.dimension for m in rank_moments(moments, "erodes", limit=1)] == ["respect"]
    with pytest.raises(ValueError, match="effect"):
        rank_moments(moments, "neutral")
