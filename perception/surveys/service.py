"""Survey waves: create from the item bank, edit, open, close.

Rules (DESIGN section 1):
- a wave can be edited while it is a draft or while it has no responses;
- the items of a wave that has responses never change (a new wording is a new version of the item,
  which the wave does not ask: perception/surveys/bank_service.py), whatever its status; this
  module refuses it, so every caller (pages, CLI, API) obeys it;
- a wave needs at least one item; its last day is not before its first; slugs are unique;
- a retired item is offered to no new wave; a wave that has it already keeps it;
- likewise an archived team is added to no wave; a wave that covers it already keeps it until the
  team is unticked (the edit form offers it, marked archived, ticked).
"""

import re
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from perception.core.audit import record
from perception.core.database import holds_id
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import Dimension, Item, Response, Survey, Team, utcnow
from perception.surveys.queries import survey_by_slug

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"new"}  # /leaders/surveys/new is the creation page


class WaveError(FieldError):
    """A change refused; `field` names the form field at fault (None for the wave as a whole)."""


@dataclass(frozen=True)
class WaveSpec:
    title: str
    slug: str
    item_ids: frozenset
    opens_at: object = None
    closes_at: object = None
    team_ids: frozenset = frozenset()
    ask_nps: bool = True


def slugify(text):
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80].rstrip("-")


def has_responses(survey):
    return db.session.execute(select(exists().where(Response.survey_id == survey.id))).scalar()


def response_count(survey):
    return db.session.execute(select(func.count()).where(Response.survey_id == survey.id)).scalar()


def can_edit(survey, responses=None):
    """`responses`: the survey's response count when the caller already knows it."""
    if survey.status == "draft":
        return True
    return not (has_responses(survey) if responses is None else responses)


def item_bank(keep=()):
    """[(Dimension, [Item, ...]), ...] a wave may pick from, in display order, in one query: the
    items not retired, and the retired ones among `keep` (the ids a wave already has)."""
    items = db.session.execute(
        select(Item).join(Dimension)
        .where(or_(Item.retired_at.is_(None), Item.id.in_(set(keep))))
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).scalars()
    bank = {}
    for item in items:
        bank.setdefault(item.dimension, []).append(item)
    return list(bank.items())


def _load(model, ids, field, what):
    ids = set(ids)
    # An id no id column holds (a form edited by hand) exists no more than a deleted one.
    holdable = {number for number in ids if holds_id(number)}
    rows = list(db.session.execute(select(model).where(model.id.in_(holdable))).scalars()) if holdable else []
    if len(rows) != len(ids):
        raise WaveError(f"Some of the chosen {what} do not exist any more. Please choose again.", field)
    return rows


def _load_items(ids, keep=()):
    """The chosen items; a retired one only when the wave already has it (`keep`)."""
    items = _load(Item, ids, "items", "items")
    retired = [item.key for item in items if item.retired_at is not None and item.id not in set(keep)]
    if retired:
        raise WaveError(f"Retired items cannot be asked in a wave any more: {', '.join(sorted(retired))}. "
                        "Please choose again.", "items")
    return items


def _load_teams(ids, keep=()):
    """The chosen teams; an archived (or merged) one only when the wave covers it already (`keep`): a wave
    keeps an archived team of its scope until it is unticked, but none is added."""
    teams = _load(Team, ids, "teams", "teams")
    archived = sorted(team.name for team in teams if team.archived and team.id not in set(keep))
    if archived:
        verb = "is" if len(archived) == 1 else "are"
        raise WaveError(f"{', '.join(archived)} {verb} archived: an archived team cannot be added to a wave. "
                        "Restore it first (Administration, Teams).", "teams")
    return teams


def _check(spec, survey=None):
    title = (spec.title or "").strip()
    if not title:
        raise WaveError("Please give the wave a title.", "title")
    slug = (spec.slug or "").strip() or slugify(title)
    if not SLUG_RE.match(slug) or not 3 <= len(slug) <= 80:
        raise WaveError("Use 3 to 80 lowercase letters, digits and single hyphens, e.g. care-check-2026-q3.", "slug")
    if slug in RESERVED_SLUGS:
        raise WaveError(f"“{slug}” is reserved. Please choose another short name.", "slug")
    taken = survey_by_slug(slug)
    if taken is not None and (survey is None or taken.id != survey.id):
        # Says nothing of that wave (it may be another team's, which this leader may not know exists).
        raise WaveError(f"The short name “{slug}” is not available. Please choose another.", "slug")
    if not spec.item_ids:
        raise WaveError("Please choose at least one item.", "items")
    if spec.opens_at and spec.closes_at and spec.closes_at <= spec.opens_at:
        raise WaveError("The wave must close after it opens.", "last_day")
    return title, slug


def _commit():
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise WaveError("That short name was taken a moment ago. Please choose another.", "slug") from None


def create_wave(spec, actor=None):
    """A new draft wave. Raises WaveError. `actor`: who made it (for the audit log)."""
    title, slug = _check(spec)
    survey = Survey(
        title=title, slug=slug, status="draft", opens_at=spec.opens_at, closes_at=spec.closes_at,
        ask_nps=bool(spec.ask_nps),
        items=_load_items(spec.item_ids),
        teams=_load_teams(spec.team_ids),
    )
    db.session.add(survey)
    try:
        db.session.flush()  # its id, for the audit line
    except IntegrityError:
        db.session.rollback()
        raise WaveError("That short name was taken a moment ago. Please choose another.", "slug") from None
    record("survey.created", actor=actor, target=survey, slug=slug, items=len(survey.items))
    _commit()
    return survey


def update_wave(survey, spec, actor=None):
    """Change a wave. Raises WaveError when it may not change (see the module docstring)."""
    responded = has_responses(survey)
    if survey.status != "draft" and responded:
        raise WaveError("This wave has responses, so it can no longer be edited. Open or close it instead.")
    title, slug = _check(spec, survey)
    if set(spec.item_ids) != {item.id for item in survey.items}:
        if responded:
            raise WaveError("This wave already has responses, so its items cannot change. "
                            "Create a new wave for new items or wordings.", "items")
        survey.items = _load_items(spec.item_ids, keep={item.id for item in survey.items})
        record("survey.items_changed", actor=actor, target=survey, items=sorted(spec.item_ids))
    survey.title, survey.slug, survey.ask_nps = title, slug, bool(spec.ask_nps)
    survey.opens_at, survey.closes_at = spec.opens_at, spec.closes_at
    survey.teams = _load_teams(spec.team_ids, keep={team.id for team in survey.teams})
    _commit()
    return survey


def open_wave(survey, now=None, actor=None):
    """Start (or restart) collecting answers."""
    now = now or utcnow()
    if survey.status == "open":
        raise WaveError("This wave is already open.")
    if not survey.items:
        raise WaveError("A wave needs at least one item before it can open.")
    if survey.closes_at is not None and survey.closes_at <= now:
        raise WaveError("The wave's last day has passed. Set a later last day before opening it.")
    survey.status = "open"
    record("survey.opened", actor=actor, target=survey, slug=survey.slug)
    db.session.commit()
    return survey


def close_wave(survey, actor=None):
    """Stop collecting answers; the figures stay."""
    if survey.status != "open":
        raise WaveError("Only an open wave can be closed.")
    survey.status = "closed"
    record("survey.closed", actor=actor, target=survey, slug=survey.slug)
    db.session.commit()
    return survey
