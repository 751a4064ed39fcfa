"""The support-vs-erode board: a suggested tag for a customer comment, and the board's ranking.

``suggest_tags`` reads a comment with simple English word lists (all kept in this module) and
suggests whether it *supports* or *erodes* the relationship and which dimension of care it
touches.  It only suggests: a person confirms or changes every tag.

How a comment is read:

1. It is split into clauses at sentence ends and at contrasts ("but", "though", "however"),
   so "Friendly enough, but nobody told me the fee" yields two moments.
2. In each clause, every phrase of ``EFFECT_WORDS`` counts +1 (supports) or -1 (erodes); a
   negation ("not", "never", "nobody", "without" ...) up to four words before the phrase flips
   it ("never made me feel stupid" supports, "nobody looked up" erodes).
3. The clause's dimension is the one whose ``DIMENSION_WORDS`` occur most often in it (the
   first in ``DIMENSION_WORDS`` order on a tie), else the one most named in the whole
   comment, else none.
4. Suggestions with the same effect and dimension merge; the strongest comes first.

``rank_moments`` orders tagged moments for the board: most frequent first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["DIMENSION_WORDS", "EFFECTS", "EFFECT_WORDS", "Moment", "Suggestion", "rank_moments", "suggest_tags"]

EFFECTS = ("supports", "erodes")

EFFECT_WORDS: dict[str, tuple[str, ...]] = {
    "supports": (
        "lovely", "patient", "friendly", "kind", "kindly", "helpful", "listened", "listen", "remembered",
        "great", "thank", "thanks", "thank you", "quick", "honest", "honestly", "real conversation", "caring",
        "cared", "warm", "polite", "respectful", "understood", "understanding", "excellent", "brilliant",
        "pleasant", "attentive", "valued", "appreciated", "called me back", "called back", "on time",
        "went out of their way", "above and beyond", "looked up", "noticed", "noticing", "welcoming", "smiled",
        "took the time", "took time", "made me feel welcome", "explained", "kept me informed",
        "kept their word", "reliable", "trust", "wonderful", "fantastic", "superb", "amazing", "good",
    ),
    "erodes": (
        "rude", "ignored", "waited", "waiting", "rushed", "ticket number", "a number", "passed between",
        "passed around", "from scratch", "never came", "my fault", "three times", "twice", "had to explain",
        "script", "scripted", "cold", "dismissive", "indifferent", "indifference", "stupid", "blamed", "blame",
        "hidden", "until the end", "unhelpful", "careless", "late", "condescending", "patronising",
        "patronizing", "impatient", "annoyed", "sighed", "interrupted", "rolled their eyes", "lied", "misleading",
        "broken promise", "let down", "forgotten", "forgot", "no one called", "nobody called", "bad", "awful",
        "terrible", "disappointed", "disappointing", "frustrated", "frustrating", "like a case", "a case number",
    ),
}

DIMENSION_WORDS: dict[str, tuple[str, ...]] = {
    "trust": (
        "trust", "trusted", "promise", "promised", "kept their word", "reliable", "rely", "called back",
        "called me back", "call back", "never came", "broken promise", "let down", "lied", "on time",
    ),
    "respect": (
        "respect", "respectful", "polite", "rude", "stupid", "my fault", "blamed", "blame", "condescending",
        "patronising", "patronizing", "rolled their eyes", "interrupted", "talked down", "dignity",
    ),
    "understanding": (
        "understood", "understand", "understanding", "listened", "listen", "situation", "explain my",
        "had to explain", "three times", "twice", "from scratch", "passed between", "passed around", "questions",
        "got it", "needs",
    ),
    "appreciation": (
        "appreciated", "appreciation", "valued", "thank", "thanks", "thank you", "loyal", "years",
        "taken for granted", "grateful", "recognised", "recognized",
    ),
    "honest_communication": (
        "honest", "honestly", "told", "fee", "fees", "hidden", "upfront", "explained", "kept me informed",
        "until the end", "misleading", "delay", "truth", "price", "cost", "informed",
    ),
    "kindness": (
        "kind", "kindly", "friendly", "lovely", "warm", "patient", "impatient", "smiled", "smile", "cold",
        "gentle", "welcoming", "pleasant", "annoyed", "sighed",
    ),
    "personal_attention": (
        "remembered", "by name", "ticket number", "a number", "script", "scripted", "real conversation",
        "like a person", "like a case", "a case number", "personal", "took the time", "took time", "rushed",
        "forgotten", "forgot", "went out of their way", "above and beyond",
    ),
    "attentiveness": (
        "attentive", "noticed", "noticing", "looked up", "screen", "ignored", "waited", "waiting", "long time",
        "cared", "caring", "care", "indifferent", "indifference", "dismissive", "careless", "bothered",
    ),
}

NEGATORS = frozenset({
    "not", "never", "no", "nobody", "nothing", "none", "without", "neither", "nor", "hardly", "didn't",
    "don't", "doesn't", "wasn't", "weren't", "isn't", "aren't", "won't", "couldn't", "wouldn't", "cannot",
    "can't", "haven't", "hasn't", "noone",
})
NEGATION_WINDOW = 4
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CLAUSE = re.compile(r"[.!?;\n]+|\bbut\b|\bthough\b|\balthough\b|\bhowever\b|\bwhereas\b")


@dataclass(frozen=True)
class Suggestion:
    """A suggested tag: ``effect`` (supports/erodes), ``dimension`` key or None, and the words seen."""

    effect: str
    dimension: str | None
    cues: tuple[str, ...]
    strength: int


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'").replace("n\u2019t", "n't"))


def _matches(tokens: Sequence[str], phrases: Iterable[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, phrase) matches, longest phrases first."""
    ordered = sorted({tuple(phrase.split()) for phrase in phrases}, key=len, reverse=True)
    taken = [False] * len(tokens)
    found = []
    for words in ordered:
        size = len(words)
        for start in range(len(tokens) - size + 1):
            if tuple(tokens[start:start + size]) == words and not any(taken[start:start + size]):
                found.append((start, start + size, " ".join(words)))
                for index in range(start, start + size):
                    taken[index] = True
    return sorted(found)


def _negated(tokens: Sequence[str], start: int) -> bool:
    return any(token in NEGATORS for token in tokens[max(0, start - NEGATION_WINDOW):start])


def _effect(tokens: Sequence[str]) -> tuple[int, list[str]]:
    score, cues = 0, []
    phrases = {phrase: effect for effect, words in EFFECT_WORDS.items() for phrase in words}
    for start, _end, phrase in _matches(tokens, phrases):
        sign = 1 if phrases[phrase] == "supports" else -1
        if _negated(tokens, start):
            sign, phrase = -sign, f"not {phrase}"
        score += sign
        cues.append(phrase)
    return score, cues


def _dimension(tokens: Sequence[str], allowed: Sequence[str]) -> str | None:
    counts = {key: len(_matches(tokens, DIMENSION_WORDS[key])) for key in allowed}
    best = max(counts.values(), default=0)
    if best == 0:
        return None
    return next(key for key in allowed if counts[key] == best)


def suggest_tags(text: str | None, dimensions: Sequence[str] | None = None) -> tuple[Suggestion, ...]:
    """Suggested tags for a comment, strongest first; empty when the words say nothing clear.

    ``dimensions``: the dimension keys that may be suggested (e.g. a survey's), in order of
    preference on ties; by default every key of ``DIMENSION_WORDS``.
    """
    if not text or not text.strip():
        return ()
    allowed = [key for key in (dimensions or DIMENSION_WORDS) if key in DIMENSION_WORDS]
    whole = _dimension(_tokens(text), allowed)
    merged: dict[tuple[str, str | None], tuple[int, list[str], int]] = {}
    for position, clause in enumerate(_CLAUSE.split(text.lower().replace("\u2019", "'"))):
        tokens = _tokens(clause)
        score, cues = _effect(tokens)
        if score == 0:
            continue
        effect = "supports" if score > 0 else "erodes"
        key = (effect, _dimension(tokens, allowed) or whole)
        strength, seen, first = merged.get(key, (0, [], position))
        merged[key] = (strength + abs(score), seen + [cue for cue in cues if cue not in seen], first)
    ordered = sorted(merged.items(), key=lambda entry: (-entry[1][0], entry[1][2]))
    return tuple(Suggestion(effect, dimension, tuple(cues), strength)
                 for (effect, dimension), (strength, cues, _first) in ordered)


@dataclass(frozen=True)
class Moment:
    """A tagged moment on the board: effect, dimension, how often, and example comments."""

    effect: str
    dimension: str
    count: int
    examples: tuple[str, ...] = ()


def rank_moments(moments: Iterable[Moment], effect: str, limit: int | None = None) -> list[Moment]:
    """The moments of one effect, most frequent first (then by dimension key, for a stable order)."""
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {EFFECTS}, got {effect!r}")
    ranked = sorted((m for m in moments if m.effect == effect and m.count > 0), key=lambda m: (-m.count, m.dimension))
    return ranked[:limit] if limit is not None else ranked
