"""The item bank: admins add and rename dimensions, and add, reword, translate, retire and restore
items. Every change is recorded in the audit log in its own transaction.

Versions (DESIGN section 1): rewording an item (any of its customer, staff or leader wordings)
adds an ItemVersion under the same key and makes it current, so new waves ask it. Before that,
every wave that has the item and is open, closed or answered is frozen on the version it asks
(survey_items.item_version), so a wave keeps the wording it was opened with and an old wave shows
what was asked. An unanswered draft follows the bank until it opens. Answers and reports are keyed
by the item, so they stay comparable across versions.

A translation fills in or corrects the customer wording of the current version in another language
of the customer pages: it says the same thing, so it is no new version, and waves asking that
version show it. Staff and leader pages are in English only."""

import re
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from perception.core.audit import record
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import Dimension, Item, ItemVersion, Response, Survey, survey_items, utcnow
from perception.web.i18n import DEFAULT_LANGUAGE, LANGUAGES

KEY_RE = re.compile(r"^[a-z]+(?:_[a-z]+)*$")
KEY_RULE = "Use lowercase letters a–z and single underscores, e.g. kindness_patient."
# Column names of the import CSV (DESIGN section 3): an item key is a column of the same file.
RESERVED_KEYS = frozenset({"perspective", "respondent", "team", "submitted_at", "comment", "nps"})
MAX_WORDING = 500
TRANSLATED = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)


class BankError(FieldError):
    """A change refused; `field` names the form field at fault (None for the change as a whole)."""


@dataclass(frozen=True)
class Wording:
    customer: str
    staff: str
    leader: str
    translations: dict  # {language: customer wording}; an empty wording means "not translated"


def _key(key, column, max_length, what):
    key = (key or "").strip()
    if not key:
        raise BankError(f"Please give the {what} a key.", "key")
    if len(key) > max_length or not KEY_RE.match(key):
        raise BankError(f"{KEY_RULE} At most {max_length} characters.", "key")
    if key in RESERVED_KEYS:
        raise BankError(f"“{key}” is a column of the import file. Please choose another key.", "key")
    if db.session.execute(select(exists().where(column == key))).scalar():
        raise BankError(f"The key “{key}” is already used by another {what}. Keys never change or repeat.", "key")
    return key


def _text(value, field, what):
    value = " ".join((value or "").split())
    if not value:
        raise BankError(f"Please write the {what}.", field)
    if len(value) > MAX_WORDING:
        raise BankError(f"Please keep the {what} under {MAX_WORDING} characters.", field)
    return value


def _wording(wording):
    translations = {}
    for language in TRANSLATED:
        text = " ".join((wording.translations.get(language) or "").split())
        if len(text) > MAX_WORDING:
            raise BankError(f"Please keep the wording under {MAX_WORDING} characters.", f"customer_{language}")
        if text:
            translations[language] = text
    return Wording(
        _text(wording.customer, "customer", "customers' wording"), _text(wording.staff, "staff", "staff wording"),
        _text(wording.leader, "leader", "leaders' wording"), translations,
    )


def _name(name, dimension=None):
    name = _text(name, "name", "name")[:80]
    if "@" in name:
        raise BankError("A dimension's name cannot contain “@”.", "name")
    clash = select(Dimension.id).where(func.lower(Dimension.name) == name.lower())
    if dimension is not None:
        clash = clash.where(Dimension.id != dimension.id)
    if db.session.execute(clash).first():
        raise BankError(f"Another dimension is already called “{name}”.", "name")
    return name


def _commit(field="key"):
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise BankError("That key was taken a moment ago. Please choose another.", field) from None


def key_from(name):
    """A key made from a name: "Fair pricing" -> "fair_pricing" (letters a-z only)."""
    return "_".join(re.findall(r"[a-z]+", (name or "").lower()))[:40].strip("_")


def create_dimension(key, name, description, actor):
    """A new dimension, last in order; without a key, one made from the name."""
    name = _name(name)
    key = _key((key or "").strip() or key_from(name), Dimension.key, 40, "dimension")
    position = db.session.execute(select(func.coalesce(func.max(Dimension.position), 0))).scalar() + 1
    dimension = Dimension(key=key, name=name, description=" ".join((description or "").split()), position=position)
    db.session.add(dimension)
    db.session.flush()
    record("dimension.created", actor=actor, target=dimension, key=key, name=name)
    _commit()
    return dimension


def rename_dimension(dimension, name, description, actor):
    """A new name and description; the key, and so every report, stays."""
    name, description = _name(name, dimension), " ".join((description or "").split())
    if (name, description) == (dimension.name, dimension.description):
        return dimension
    record("dimension.renamed", actor=actor, target=dimension, key=dimension.key, previous_name=dimension.name,
           name=name)
    dimension.name, dimension.description = name, description
    db.session.commit()
    return dimension


def create_item(dimension, key, wording, actor):
    """A new item, version 1, last in its dimension."""
    key = _key(key, Item.key, 60, "item")
    wording = _wording(wording)
    position = db.session.execute(
        select(func.coalesce(func.max(Item.position), 0)).where(Item.dimension_id == dimension.id)
    ).scalar() + 1
    item = Item(key=key, dimension=dimension, customer_text=wording.customer, staff_text=wording.staff,
                leader_text=wording.leader, position=position, version=1)
    item.versions.append(ItemVersion(number=1, customer_text=wording.customer, staff_text=wording.staff,
                                     leader_text=wording.leader, customer_translations=wording.translations))
    db.session.add(item)
    db.session.flush()
    record("item.created", actor=actor, target=item, key=key, dimension=dimension.key,
           languages=sorted(wording.translations))
    _commit()
    return item


def current_version(item):
    return db.session.execute(
        select(ItemVersion).where(ItemVersion.item_id == item.id, ItemVersion.number == item.version)
    ).scalar_one()


def _freeze_waves(item):
    """Waves that are open, closed or answered keep asking the version they ask now. Returns how many."""
    answered = exists().where(Response.survey_id == Survey.id)
    started = select(Survey.id).where(or_(Survey.status != "draft", answered))
    result = db.session.execute(
        update(survey_items)
        .where(survey_items.c.item_id == item.id, survey_items.c.item_version.is_(None),
               survey_items.c.survey_id.in_(started))
        .values(item_version=item.version)
    )
    return result.rowcount


def edit_item(item, wording, actor, known_translations=None):
    """Reword and/or translate. A changed English wording makes a new version (with the translations
    given); otherwise changed translations update the current version. `known_translations` is what
    the admin saw as the current translations ({language: text}: stored, or the built-in catalogue's),
    so only a real change counts. Returns "reworded", "translated" or None (nothing changed)."""
    wording = _wording(wording)
    version = current_version(item)
    seen = known_translations if known_translations is not None else dict(version.customer_translations)
    changed_languages = sorted(
        language for language in TRANSLATED if wording.translations.get(language) != (seen.get(language) or None)
    )
    english = (wording.customer, wording.staff, wording.leader)
    if english != (version.customer_text, version.staff_text, version.leader_text):
        frozen = _freeze_waves(item)
        item.version = version.number + 1
        item.customer_text, item.staff_text, item.leader_text = english
        db.session.add(ItemVersion(item=item, number=item.version, customer_text=wording.customer,
                                   staff_text=wording.staff, leader_text=wording.leader,
                                   customer_translations=wording.translations))
        record("item.reworded", actor=actor, target=item, key=item.key, version=item.version,
               previous_version=version.number, waves_kept_on_previous=frozen, languages=sorted(wording.translations))
        db.session.commit()
        return "reworded"
    translations = dict(version.customer_translations)
    for language in changed_languages:
        if language in wording.translations:
            translations[language] = wording.translations[language]
        else:
            translations.pop(language, None)
    # Emptying a built-in item's field stores nothing new: its catalogue translation still shows.
    stored = sorted(language for language in changed_languages
                    if translations.get(language) != version.customer_translations.get(language))
    if not stored:
        return None
    version.customer_translations = translations  # a new dict: JSON columns notice reassignment only
    record("item.translated", actor=actor, target=item, key=item.key, version=version.number, languages=stored)
    db.session.commit()
    return "translated"


def retire_item(item, actor):
    if item.retired_at is not None:
        raise BankError("This item is already retired.")
    item.retired_at = utcnow()
    record("item.retired", actor=actor, target=item, key=item.key)
    db.session.commit()
    return item


def restore_item(item, actor):
    if item.retired_at is None:
        raise BankError("This item is not retired.")
    item.retired_at = None
    record("item.restored", actor=actor, target=item, key=item.key)
    db.session.commit()
    return item
