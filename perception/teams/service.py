"""Teams' rules and writes: create, rename, merge, archive, restore. Each records its audit event in
its own transaction and commits. A team is made, and its name checked, by
perception.accounts.team_service, the one way every feature makes a team.

Merging team FROM into team INTO moves everything of FROM to INTO in one transaction: responses (and
with them their report cells), invitations (so a link still unanswered submits to INTO), open links,
follow-ups, people, and the waves' team scopes. FROM stays as an archived alias of INTO
(`merged_into_id`): it is offered nowhere, and an imported file that still names it lands in INTO.

Publication in batches (DESIGN section 2, "No small difference") across a merge: a published answer
keeps its batch and its date, so every figure of INTO changes by FROM's published batches, which
were whole. The answers still waiting in the two teams' groups become one group (it is one team now);
where together they complete a batch, that batch is published in the merge's transaction, dated by
its last answer, like any batch, so it too enters the figures as a whole batch of MIN_N. Nothing is
ever published in a smaller step.

A merge races a customer who submits to FROM in the same instant: that one response can stay with
FROM. Merging again (same FROM, same INTO) moves such stragglers and changes nothing else."""

from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, literal, select, update

from perception.accounts.team_service import TeamError, add_teams, check_free, clean_name, shown_name
from perception.core.audit import record
from perception.core.extensions import db
from perception.core.models import FollowUp, Invitation, OpenLink, Response, Team, User, survey_teams, utcnow
from perception.reports import service as report_cells


@dataclass
class MergeResult:
    source: str
    target: str
    moved: dict = field(default_factory=dict)  # what moved: label -> count
    published: int = 0  # waiting answers that completed a batch together


def resolved(team):
    """The team a name stands for: a merged team's name stands for the team it went into."""
    seen = set()
    while team is not None and team.merged_into_id is not None and team.id not in seen:
        seen.add(team.id)
        team = db.session.get(Team, team.merged_into_id)
    return team


def create_team(name, actor=None):
    """A new team, made like every team (perception.accounts.team_service), committed."""
    created, refused = add_teams([name], actor=actor)
    if name in refused:
        raise refused[name]
    db.session.commit()
    return created[name]


def rename_team(team, new_name, actor=None):
    new_name = clean_name(new_name)
    if new_name == team.name:
        raise TeamError(f"The team is already called {new_name!r}.")
    check_free(new_name, team)
    old = team.name
    team.name = new_name
    record("team.renamed", actor=actor, target=team, old=shown_name(old), new=shown_name(new_name))
    db.session.commit()
    return team


def archive_team(team, actor=None):
    if team.merged_into_id is not None:
        raise TeamError(f"{team.name} was merged into another team; it is archived already.", "team")
    if team.archived:
        raise TeamError(f"{team.name} is archived already.", "team")
    team.archived_at = utcnow()
    record("team.archived", actor=actor, target=team, name=shown_name(team.name))
    db.session.commit()
    return team


def restore_team(team, actor=None):
    if team.merged_into_id is not None:
        raise TeamError(f"{team.name} was merged into another team and cannot come back; create a new team.", "team")
    if not team.archived:
        raise TeamError(f"{team.name} is not archived.", "team")
    team.archived_at = None
    record("team.restored", actor=actor, target=team, name=shown_name(team.name))
    db.session.commit()
    return team


def _check_merge(source, target):
    if target is None or source is None:
        raise TeamError("Please choose the team to merge into.", "into")
    if source.id == target.id:
        raise TeamError("A team cannot be merged into itself.", "into")
    if source.merged_into_id not in (None, target.id):
        raise TeamError(f"{source.name} was merged into another team already.", "into")
    if target.merged_into_id is not None:
        raise TeamError(f"{target.name} was merged into another team: merge into that one.", "into")
    if target.archived:
        raise TeamError(f"{target.name} is archived: restore it before merging into it.", "into")


MOVED_TABLES = (("invitations", Invitation), ("open links", OpenLink), ("follow-ups", FollowUp), ("people", User))


def merge_teams(source, target, actor=None):
    """Merge team `source` into `target` (see the module's text). Returns a MergeResult."""
    _check_merge(source, target)
    connection = db.session.connection()
    result = MergeResult(source.name, target.name)
    result.moved["responses"] = connection.execute(
        select(func.count()).where(Response.team_id == source.id)).scalar_one()
    published = report_cells.merge_team(connection, source.id, target.id)
    result.published = sum(len(ids) for ids in published.values())
    for label, model in MOVED_TABLES:
        table = model.__table__
        result.moved[label] = connection.execute(
            update(table).where(table.c.team_id == source.id).values(team_id=target.id)).rowcount
    scope = survey_teams.c
    already = select(scope.survey_id).where(scope.team_id == target.id)
    result.moved["waves"] = connection.execute(
        select(func.count()).select_from(survey_teams).where(scope.team_id == source.id)).scalar_one()
    connection.execute(insert(survey_teams).from_select(
        ["survey_id", "team_id"],
        select(scope.survey_id, literal(target.id)).where(scope.team_id == source.id, scope.survey_id.not_in(already)),
    ))
    connection.execute(delete(survey_teams).where(scope.team_id == source.id))
    connection.execute(update(Team.__table__).where(Team.__table__.c.merged_into_id == source.id)
                       .values(merged_into_id=target.id))  # earlier aliases of FROM now name INTO
    source.merged_into_id = target.id
    source.archived_at = source.archived_at or utcnow()
    record("team.merged", actor=actor, target=source, into_id=target.id, source_name=shown_name(source.name),
           into_name=shown_name(target.name), published=result.published, **{
               label.replace(" ", "_"): count for label, count in result.moved.items()})
    db.session.commit()
    db.session.expire_all()  # rows moved past the ORM: nothing loaded may keep the old team
    return result
