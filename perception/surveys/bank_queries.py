"""Reading the item bank for the admins' pages: every dimension with every item (retired ones too),
an item's versions and the waves that ask each, and the translations customers see today."""

from flask import abort
from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import Dimension, Item, ItemVersion, Survey, survey_items
from perception.surveys.bank_service import TRANSLATED
from perception.web.i18n import catalogue_item_translation


def whole_bank():
    """[(Dimension, [Item, ...]), ...] in display order, dimensions without items included."""
    dimensions = db.session.execute(select(Dimension).order_by(Dimension.position, Dimension.id)).scalars().all()
    bank = {dimension.id: (dimension, []) for dimension in dimensions}
    for item in db.session.execute(select(Item).order_by(Item.position, Item.id)).scalars():
        bank[item.dimension_id][1].append(item)
    return list(bank.values())


def wave_counts():
    """{item id: how many waves ask it}."""
    return dict(db.session.execute(
        select(survey_items.c.item_id, func.count()).group_by(survey_items.c.item_id)
    ).all())


def dimension_or_404(key):
    dimension = db.session.execute(select(Dimension).where(Dimension.key == key)).scalar_one_or_none()
    if dimension is None:
        abort(404)
    return dimension


def item_or_404(key):
    item = db.session.execute(select(Item).where(Item.key == key)).scalar_one_or_none()
    if item is None:
        abort(404)
    return item


def version_history(item):
    """[(ItemVersion, [Survey, ...]), ...] newest first: each version with the waves that ask it."""
    versions = db.session.execute(
        select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(ItemVersion.number.desc())
    ).scalars().all()
    asked = {}
    rows = db.session.execute(
        select(func.coalesce(survey_items.c.item_version, item.version), Survey)
        .join(Survey, Survey.id == survey_items.c.survey_id)
        .where(survey_items.c.item_id == item.id)
        .order_by(Survey.created_at, Survey.id)
    )
    for number, survey in rows:
        asked.setdefault(number, []).append(survey)
    return [(version, asked.get(version.number, [])) for version in versions]


def shown_translations(version, key):
    """{language: the customer wording customers see today} for the version: the stored translation,
    else the built-in `items` catalogue's for exactly this English wording; absent when neither."""
    shown = {}
    for language in TRANSLATED:
        text = version.customer_translations.get(language) or catalogue_item_translation(
            key, version.customer_text, language)
        if text:
            shown[language] = text
    return shown
