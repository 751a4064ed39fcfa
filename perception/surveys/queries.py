"""Reading surveys: the one lookup by slug, the surveys a user may rate, a wave's items in the
wording it asks, and the response counts of the leaders' overview."""

from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, func, select

from perception.accounts.scope import sees_survey, team_condition
from perception.core.extensions import db
from perception.core.models import Dimension, Item, ItemVersion, Response, Survey, survey_items
from perception.insights.effort import phone_minutes


def asked_version():
    """The join condition from survey_items (and items) to the ItemVersion a wave asks: its frozen
    version, else the item's current one (perception/surveys/bank_service.py says when a wave freezes)."""
    return and_(
        ItemVersion.item_id == survey_items.c.item_id,
        ItemVersion.number == func.coalesce(survey_items.c.item_version, Item.version),
    )


def translation_pairs(translations):
    """{language: wording} as a sorted tuple of pairs: hashable, so cached forms can key on it."""
    return tuple(sorted((translations or {}).items()))


@dataclass(frozen=True)
class WaveItem:
    """One item as a wave asks it: the stable item (id, key, dimension; answers and reports are keyed
    by these) with the wording of the version the wave asks."""

    id: int
    key: str
    version: int
    customer_text: str
    staff_text: str
    leader_text: str
    translations: tuple  # ((language, customer wording), ...)
    dimension_key: str
    dimension_name: str
    retired: bool

    def text_for(self, perspective):
        return {"customer": self.customer_text, "staff": self.staff_text, "leader": self.leader_text}[perspective]


def survey_overview(surveys, user):
    """Response counts per survey and perspective, within `user`'s team scope."""
    ids = [survey.id for survey in surveys]
    counts = {survey_id: {"customer": 0, "staff": 0, "leader": 0} for survey_id in ids}
    if ids:
        rows = db.session.execute(
            select(Response.survey_id, Response.perspective, func.count())
            .where(Response.survey_id.in_(ids), team_condition(user, Response.team_id))
            .group_by(Response.survey_id, Response.perspective)
        )
        for survey_id, perspective, count in rows:
            counts[survey_id][perspective] = count
    return counts


def _wave_item_rows(*conditions):
    return db.session.execute(
        select(Item.id, Item.key, ItemVersion.number, ItemVersion.customer_text, ItemVersion.staff_text,
               ItemVersion.leader_text, ItemVersion.customer_translations, Dimension.key, Dimension.name,
               Item.retired_at)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .join(ItemVersion, asked_version())
        .where(*conditions)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    )


def _wave_item(row):
    item_id, key, number, customer, staff, leader, translations, dimension_key, dimension_name, retired_at = row
    return WaveItem(item_id, key, number, customer, staff, leader, translation_pairs(translations), dimension_key,
                    dimension_name, retired_at is not None)


def wave_items(survey):
    """[WaveItem, ...] of the survey in the wording it asks, in display order, in one query."""
    return [_wave_item(row) for row in _wave_item_rows(survey_items.c.survey_id == survey.id)]


def wave_item(survey_id, item_id):
    """The WaveItem of one item as the survey asks it (None when the survey does not ask it)."""
    row = _wave_item_rows(survey_items.c.survey_id == survey_id, Item.id == item_id).one_or_none()
    return None if row is None else _wave_item(row)


def wave_wordings(survey_id):
    """{item id: customer wording the wave asks}, in one query."""
    return dict(db.session.execute(
        select(survey_items.c.item_id, ItemVersion.customer_text)
        .join(Item, Item.id == survey_items.c.item_id)
        .join(ItemVersion, asked_version())
        .where(survey_items.c.survey_id == survey_id)
    ).all())


def customer_minutes(statements, ask_nps):
    """The minutes a customer needs on a phone for a wave of `statements` statements (its comment
    box, and its 0-10 question when `ask_nps`): perception.insights.effort, said on every page."""
    return phone_minutes(statements, recommend=bool(ask_nps))


def survey_by_slug(slug):
    """The one lookup of a survey (a wave) by its slug: the survey, or None."""
    return db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()


def known_slugs(limit=20):
    return db.session.execute(select(Survey.slug).order_by(Survey.slug).limit(limit)).scalars().all()


def survey_by_slug_or_404(slug):
    survey = survey_by_slug(slug)
    if survey is None:
        abort(404)
    return survey


def responses_in_scope(survey, user):
    """How many responses the wave has from the teams `user` may see (survey_overview's counts): a
    team's leader on a wave shared with other teams counts their own team's only."""
    return sum(survey_overview([survey], user)[survey.id].values())


def visible_survey_or_404(slug, user):
    """The wave if `user` may see it (perception.accounts.scope.sees_survey), else 404: a team's
    leader learns nothing of the waves of other teams, not even that they exist."""
    survey = survey_by_slug(slug)
    if survey is None or not sees_survey(user, survey):
        abort(404)
    return survey


def surveys_for(user, statuses=("open",)):
    """Surveys a user may see and rate: staff and a team's leaders only those covering their team."""
    surveys = db.session.execute(
        select(Survey).where(Survey.status.in_(statuses)).order_by(Survey.created_at.desc(), Survey.id.desc())
    ).scalars()
    return [survey for survey in surveys if sees_survey(user, survey)]
