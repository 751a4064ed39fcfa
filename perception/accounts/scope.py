"""Team scope (DESIGN section 2, "Scope"): the one rule for whose data a person reads and acts on.

- Admins, and leaders without a team, see the whole business: `team_scope` is None.
- A leader of a team reads and acts on that team only: customers, invitations, open links, response
  rows, follow-ups, exports, reports (their filters are forced to the team) and the board.
- Staff have their team (staff without one see no team's data).

Waves: a leader of a team sees a wave that covers their team (one scoped to their team, to several
teams including theirs, or to every team) and reads it for their team only; they create, edit, open
and close only waves scoped to teams within their scope, never a wave of the whole business or of
other teams too. A user has at most one team in this schema, so the scope is one team id or none.

Every page, API operation and query that reads or changes team-owned data asks these functions."""

from sqlalchemy import and_, false, or_, true


def team_scope(user):
    """None for the whole business, else the frozenset of team ids `user` may see."""
    if user.role == "admin":
        return None
    if user.team_id is None:
        return None if user.role == "leader" else frozenset()
    return frozenset({user.team_id})


def whole_business(user):
    return team_scope(user) is None


def in_scope(user, team_id):
    """May `user` see data of the team `team_id` (None: data of no team, seen by the whole business only)?"""
    scope = team_scope(user)
    return scope is None or team_id in scope


def scoped_teams(user, teams):
    """The teams of `teams` (Team objects) within the user's scope, in the given order."""
    scope = team_scope(user)
    return list(teams) if scope is None else [team for team in teams if team.id in scope]


def own_team(user):
    """The one team a scoped user's filters are forced to, or None for the whole business."""
    return None if whole_business(user) else user.team


def team_condition(user, column):
    """SQL condition on a team id `column`: true for the whole business, else the user's teams only."""
    scope = team_scope(user)
    if scope is None:
        return true()
    return column.in_(sorted(scope)) if scope else false()


def account_sees_team(users, team_column):
    """`in_scope` over many accounts at once, as SQL: true where the account of the row of `users` (the
    users table or an alias of it) may see data of the team `team_column`, per `team_scope`."""
    # Never NULL, so that NOT of it holds too: with a NULL on either side the team comparison is false
    # (no team sees data of no team), not unknown.
    return or_(users.c.role == "admin", and_(users.c.role == "leader", users.c.team_id.is_(None)),
               and_(users.c.team_id.is_not(None), team_column.is_not(None), users.c.team_id == team_column))


def sees_survey(user, survey):
    """A wave is visible when it covers one of the user's teams (an empty team list covers every team);
    a draft only to those who prepare waves (staff found one by typing its slug: an attacker's read)."""
    if user.role == "staff" and survey.status == "draft":
        return False
    scope = team_scope(user)
    return scope is None or not survey.teams or any(team.id in scope for team in survey.teams)


def manages_teams(user, team_ids):
    """May `user` make or change a wave scoped to `team_ids` (empty: every team, the whole business)?"""
    scope = team_scope(user)
    return scope is None or (bool(team_ids) and set(team_ids) <= scope)


def manages_survey(user, survey):
    """May `user` edit, open and close this wave? Only when every team it covers is in their scope."""
    return manages_teams(user, {team.id for team in survey.teams})
