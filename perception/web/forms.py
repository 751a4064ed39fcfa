"""Form builders shared by the blueprints. Survey forms are built per survey, one radio group
per item, so the same validation serves customers, staff and leaders."""

import re
from functools import lru_cache

from babel.support import Translations
from flask import current_app
from flask_babel import format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, Optional, ValidationError

LIKERT_CHOICES = [
    SelectChoice(1, _l("Strongly disagree")),
    SelectChoice(2, _l("Disagree")),
    SelectChoice(3, _l("Neither agree nor disagree")),
    SelectChoice(4, _l("Agree")),
    SelectChoice(5, _l("Strongly agree")),
]
NPS_CHOICES = [SelectChoice(value, str(value)) for value in range(11)]
COMMENT_MAX = 5000


def int_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


LIKERT_REQUIRED = _l("Please choose an answer from 1 (strongly disagree) to 5 (strongly agree).")


# Formatted when shown, so the number reads "5,000" in English and "5.000" in German.
COMMENT_TOO_LONG = LazyString(
    lambda: gettext("Please keep your comment under %(count)s characters.", count=format_decimal(COMMENT_MAX))
)


def likert_field(label, message=LIKERT_REQUIRED):
    return RadioField(label, choices=LIKERT_CHOICES, coerce=int, validators=[InputRequired(message)])


# Control characters other than tab and line breaks (C0, DEL, C1). No keyboard types them; in a comment
# they reached an operator's terminal through `export-responses` to stdout, where ESC sequences rewrite
# lines already shown, retitle the window or write the clipboard (an attacker's read).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


LONE_CARRIAGE_RETURN = re.compile("\r(?!\n)")


def without_control_characters(value):
    """`value` without control characters, a carriage return alone made a line break (on a terminal it
    wrote the rest of the line over its start; browsers send a textarea's breaks as CR LF: a review)."""
    if not isinstance(value, str):
        return value
    return LONE_CARRIAGE_RETURN.sub("\n", CONTROL_CHARACTERS.sub("", value))


def comment_field(label):
    return TextAreaField(
        label,
        filters=[without_control_characters],
        validators=[
            Optional(),
            Length(max=COMMENT_MAX, message=COMMENT_TOO_LONG),
        ],
        render_kw={"maxlength": COMMENT_MAX, "rows": 4},
    )


@lru_cache(maxsize=8)
def _wtforms_translations(locale):
    return Translations.load(messages_path(), [locale], domain="wtforms")


class CustomerFlaskForm(FlaskForm):
    """A FlaskForm whose WTForms messages catalogue is read once per language and process
    (Flask-WTF reads it again on every request)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(str(get_locale()))


# --- "May we contact you about your answers?" (closing the loop, perception.followups) --------
CONSENT_CHOICES = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
PHONE_RE = re.compile(r"\+?[0-9 ()./-]{6,40}")


def _phone(form, field):
    phone = (field.data or "").strip()
    if not phone:
        return
    if not PHONE_RE.fullmatch(phone) or sum(char.isdigit() for char in phone) < 6:
        raise ValidationError(_l("Please write a phone number with digits, for example +44 20 7946 0958."))
    choice = form.contact_consent.data
    if choice == "no":
        raise ValidationError(_l("You chose not to be contacted: leave the phone number empty, or choose Yes."))
    if choice != "yes":
        form.contact_consent.errors.append(_l("Please tell us whether we may contact you about your answers."))
        raise ValidationError(_l("We use this number only if you allow us to contact you."))


def contact_fields():
    return {
        "contact_consent": RadioField(_l("May we contact you about your answers? (optional)"),
                                      choices=CONSENT_CHOICES, validators=[Optional()]),
        "contact_phone": StringField(_l("Phone number (optional)"), validators=[Optional(), Length(max=40), _phone],
                                     render_kw={"type": "tel", "autocomplete": "tel", "maxlength": 40}),
    }


def contact_choice(form):
    """(consent, phone or None) from a customer form; the phone is kept only with consent."""
    consent = form.contact_consent.data == "yes"
    phone = (form.contact_phone.data or "").strip() if consent else ""
    return consent, phone or None


def collect_scores(form, items, prefix):
    return {item.id: form[f"{prefix}_{item.key}"].data for item in items if f"{prefix}_{item.key}" in form}


class TeamFilters(FlaskForm):
    """A GET filter form (no CSRF: a GET changes nothing, and a view can be bookmarked) whose team field
    keeps to the viewer's scope (perception.accounts.scope): every team and "All teams", or, for a
    team's leader (`fixed_team`), their own team only, preselected; another team is refused."""

    class Meta:
        csrf = False

    team = SelectField("Team", validate_choice=False)

    def __init__(self, teams, fixed_team=None, archived=(), **kwargs):
        super().__init__(**kwargs)
        self.fixed_team = fixed_team
        # Archived teams are not offered, but a link naming one still reads its history.
        self.teams_by_name = {team.name: team for team in (*archived, *teams)}
        self.team.choices = [SelectChoice(team.name, team.name) for team in teams]
        if fixed_team is None:
            self.team.choices.insert(0, SelectChoice("", "All teams"))
        elif not self.team.data:
            self.team.data = fixed_team.name

    def validate_team(self, field):
        fixed = self.fixed_team
        if fixed is not None and field.data and field.data != fixed.name:
            raise ValidationError(f"You lead {fixed.name}: these figures are for {fixed.name} only.")
        if field.data and field.data not in self.teams_by_name:
            raise ValidationError("There is no team with that name. Choose one from the list.")

    def selected_team(self):
        return self.fixed_team or self.teams_by_name.get(self.team.data or "")
