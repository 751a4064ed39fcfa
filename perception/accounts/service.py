"""Accounts and personal API tokens: making accounts; API tokens created and revoked by their owner
in the web UI, shown once, stored as a SHA-256 hash. A token acts with its owner's current role and
team scope, within the scopes chosen when it was made; a revoked token or a deactivated account stops
working at once (perception.web.api checks them; deactivating also revokes the account's tokens,
perception.accounts.people_service)."""

import secrets

from sqlalchemy import select, update

from perception.accounts.queries import find_team, find_user_by_email
from perception.accounts.team_service import add_teams, spaced
from perception.core.audit import record as audit
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import ROLES, ApiToken, User, utcnow
from perception.core.tokens import API_SCOPES, API_TOKEN_PREFIX, hash_token


class TokenError(FieldError):
    """An API token refused; the token's name by default."""

    default_field = "name"


def create_api_token(user, name, scopes=tuple(API_SCOPES)):
    """Return (record, token). The token is shown to the user once and never stored. `scopes`: what
    the token may do (names from API_SCOPES, at least one); it never goes beyond its owner's role
    and team scope."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Please give the token a name, e.g. the system that will use it.")
    scopes = set(scopes or ())
    if not scopes:
        raise TokenError("Please choose at least one thing the token may do.", "scopes")
    unknown = scopes - set(API_SCOPES)
    if unknown:
        raise TokenError(f"Unknown scope {', '.join(sorted(unknown))}; choose from {', '.join(API_SCOPES)}.", "scopes")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    record = ApiToken(user_id=user.id, name=name[:80], token_hash=hash_token(token), prefix=token[:10],
                      scopes=" ".join(scope for scope in API_SCOPES if scope in scopes))
    db.session.add(record)
    db.session.flush()  # its id, for the audit line; the token's name is free text, so not recorded
    audit("token.created", actor=user, target=record, scopes=record.scopes)
    db.session.commit()
    return record, token


def tokens_of(user):
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None),
                                                                    ApiToken.created_at.desc())
    ).scalars())


def revoke_api_token(user, token_id):
    """Revoke one of the user's own tokens; False if there is no such token of theirs."""
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        return False
    # Only while it is not revoked yet, as the row stands: two tabs revoking at once wrote two audit
    # lines, and the second moved the time of revocation (a race hunt).
    t = ApiToken.__table__
    revoked = db.session.execute(update(t).where(t.c.id == record.id, t.c.revoked_at.is_(None))
                                 .values(revoked_at=utcnow())).rowcount
    if revoked:
        audit("token.revoked", actor=user, target=record)
    db.session.commit()
    return True


class UserError(ValueError):
    pass


def get_or_create_team(name, actor=None):
    """The team named `name` (as typed, or with its white space tidied as a new team's would be), else a
    new one made like every team (perception.accounts.team_service), in the caller's transaction."""
    team = find_team(name) or find_team(spaced(name))
    if team is not None and team.archived_at is not None:  # archived teams take no new members
        raise UserError(f"team {team.name} is archived: restore it first (flask teams restore NAME)")
    if team is None:
        created, refused = add_teams([name], actor=actor)
        if name in refused:
            raise UserError(str(refused[name]))
        team = created[name]
    return team


def create_user(email, password, role, team_name=None, name=""):
    email = (email or "").strip().lower()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if find_user_by_email(email):
        raise UserError(f"a user with email {email} already exists")
    if role == "staff" and not team_name:
        raise UserError("staff members belong to a team: give --team NAME")
    if len(password or "") < 8:
        raise UserError("the password must have at least 8 characters")
    team = get_or_create_team(team_name) if team_name else None
    user = User(email=email, name=name or email.split("@")[0], role=role, team=team)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    # Made on the command line (no actor), by someone with the server's shell: still on the record.
    audit("user.created", actor=None, target=user, role=role, team_id=getattr(team, "id", None))
    db.session.commit()
    return user
