"""Making teams: the one way a team row comes to be, wherever it is made (the teams pages and `flask
teams create` through perception.teams.service, `create-user --team` with a new name, and
`import-responses --create-teams`), so every new team obeys the same name rules and leaves the same
`team.created` audit event (actor None on the command line).

It sits in accounts, beside the team queries (perception.accounts.queries), because the features that
make teams are above it (responses, teams) or are accounts itself. `add_teams` adds to the caller's
transaction and never commits: the caller commits the teams with the change they belong to, so an
import that fails takes its new teams and their audit events with it."""

import unicodedata

from sqlalchemy import func, select

from perception.core.audit import record
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import Team

NAME_MAX = 120


class TeamError(FieldError):
    """A refused change, with the field it concerns (for forms)."""

    default_field = "name"


def spaced(name):
    """A name with its runs of white space made one space and its ends trimmed: the name a team gets."""
    return " ".join((name or "").split())


def name_key(name):
    """A name as a reader finds it, for searching and ordering names: compatibility forms unfolded
    (NFKD), accents and other combining marks dropped, case folded, white space as in `spaced`. So
    "zurich" finds "Zürich Hbf" however its "ü" was stored (one character or "u" and a combining
    mark), and "Ängelholm" sorts among the a's, not after "Zug"."""
    unfolded = unicodedata.normalize("NFKD", (name or "").casefold())
    return spaced("".join(char for char in unfolded if not unicodedata.combining(char)))


def clean_name(name):
    name = spaced(name)
    if not name:
        raise TeamError("Please give the team a name.")
    if len(name) > NAME_MAX:
        raise TeamError(f"Please keep the name to {NAME_MAX} characters.")
    return name


def name_taken(other):
    kind = "an archived team" if other.archived else "another team"
    return TeamError(f"{other.name!r} is already the name of {kind}. Choose another name.")


def check_free(name, team=None):
    """Names differing only in case would be confused in pickers and CSV files: refused too."""
    other = db.session.execute(select(Team).where(func.lower(Team.name) == name.lower())).scalars().first()
    if other is not None and other is not team:
        raise name_taken(other)


def shown_name(name):
    """A team name for the audit log, which refuses anything that looks like an address."""
    return None if "@" in name else name


def add_teams(names, actor=None):
    """Add a team for each of `names` in the open transaction, without committing: one query for the
    names taken, one flush, and one `team.created` event per new team (`actor`: the User acting, None
    on the command line).

    Returns (created, refused), both keyed by the names as given: created maps a name to its new Team
    (names that differ only in white space share one), refused to the TeamError saying why (an empty or
    too long name, a name taken by a team in any case, or one differing only in case from another of
    `names`). A refused name adds nothing."""
    cleaned, refused = {}, {}
    for name in dict.fromkeys(names):
        try:
            cleaned[name] = clean_name(name)
        except TeamError as error:
            refused[name] = error
    taken = {}
    if cleaned:
        lowered = sorted({clean.lower() for clean in cleaned.values()})
        for team in db.session.execute(select(Team).where(func.lower(Team.name).in_(lowered))).scalars():
            taken.setdefault(team.name.lower(), team)
    created, new = {}, {}  # new: lowered name -> Team added here
    for name, clean in cleaned.items():
        key = clean.lower()
        if key in taken:
            refused[name] = name_taken(taken[key])
        elif key in new and new[key].name != clean:
            refused[name] = TeamError(f"{clean!r} differs from {new[key].name!r} only in case. Use one name.")
        else:
            created[name] = new.setdefault(key, Team(name=clean))
    if new:
        db.session.add_all(new.values())
        db.session.flush()  # their ids, for the audit events; one flush for all of them
        for team in new.values():
            record("team.created", actor=actor, target=team, name=shown_name(team.name))
    return created, refused
