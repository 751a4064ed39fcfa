"""Survey forms, built per survey (one radio group per item) so the same validation serves
customers, staff and leaders; a customer's form class is cached per survey content and language."""

from functools import lru_cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import Optional

from perception.web.forms import (
    NPS_CHOICES,
    CustomerFlaskForm,
    comment_field,
    contact_fields,
    int_or_none,
    likert_field,
)
from perception.web.i18n import customer_item_text


def cached_customer_form_class(items, ask_nps):
    """`customer_form_class` built once per survey content and language. `items` must be hashable
    and describe everything the form shows of them (perception.responses.FormItem tuples): a
    change to a survey's items is a different key, never a stale form."""
    return _customer_form_class_in(items, bool(ask_nps), str(get_locale()))


@lru_cache(maxsize=256)
def _customer_form_class_in(items, ask_nps, _language):
    # The language is part of the key: the labels are translated when the class is built.
    return customer_form_class(items, ask_nps)


def customer_form_class(items, ask_nps):
    attrs = {f"item_{item.key}": likert_field(customer_item_text(item)) for item in items}
    attrs["comment"] = comment_field(_l("Anything you would like to tell us? (optional)"))
    if ask_nps:
        attrs["nps"] = RadioField(
            _l("How likely are you to recommend us to a friend or colleague? (optional)"),
            choices=NPS_CHOICES,
            coerce=int_or_none,
            validators=[Optional()],
        )
    attrs.update(contact_fields())
    return type("CustomerSurveyForm", (CustomerFlaskForm,), attrs)


def self_assessment_form_class(items, perspective):
    attrs = {}
    for item in items:
        attrs[f"item_{item.key}"] = likert_field(item.text_for(perspective))
        if perspective == "staff":
            attrs[f"predict_{item.key}"] = likert_field(
                f"How will your customers answer: “{item.customer_text}”",
                "Please predict your customers' answer from 1 to 5.",
            )
    # No page shows a staff or leader note to anyone else; the operators' full export (their backup) holds it.
    attrs["comment"] = comment_field(
        "A note for yourself (optional: no page shows it to anyone else; it is kept in the operators' backups)")
    return type("SelfAssessmentForm", (FlaskForm,), attrs)
