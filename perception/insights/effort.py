"""How long a customer needs on a phone to answer a wave: the one estimate the wave form and the
customer pages state.

Basis (documented in the README, "The item bank"): on a desktop a customer reads and rates one
agree/disagree statement in about 5 seconds, and answers the 0-10 recommend question in about 5;
the optional comment box is counted at 20 seconds (a short sentence), and reading the page's
introduction and sending it at 10. On a phone the same survey takes about 1.4 times as long
(smaller screen, scrolling, thumb typing). The total is rounded up to whole minutes, never below
one, so the page never promises less than it asks."""

import math

DESKTOP_SECONDS_PER_STATEMENT = 5
DESKTOP_SECONDS_RECOMMEND = 5
DESKTOP_SECONDS_COMMENT = 20
DESKTOP_SECONDS_PAGE = 10
PHONE_FACTOR = 1.4


def phone_seconds(statements, *, recommend=True, comment=True):
    """Estimated seconds for a customer on a phone: `statements` rating statements, the 0-10
    question when `recommend`, the comment box when `comment`."""
    if statements < 0:
        raise ValueError("statements must not be negative")
    desktop = (DESKTOP_SECONDS_PAGE + statements * DESKTOP_SECONDS_PER_STATEMENT
               + (DESKTOP_SECONDS_RECOMMEND if recommend else 0) + (DESKTOP_SECONDS_COMMENT if comment else 0))
    return desktop * PHONE_FACTOR


def phone_minutes(statements, *, recommend=True, comment=True):
    """`phone_seconds` rounded up to whole minutes, at least 1."""
    # round() first: 1.4 * 60 is 84.00000000000001 in binary floating point, not over 84 seconds.
    seconds = round(phone_seconds(statements, recommend=recommend, comment=comment), 6)
    return max(1, math.ceil(seconds / 60))
