"""Forms of the follow-up pages. Several forms share one page and one POST address; each has a
prefix (so their fields never collide) and a hidden `action` naming it."""

from datetime import UTC

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from perception.followups.service import CHANNEL_LABELS, NOTE_MAX, OUTCOME_LABELS


def _note(label, required=False):
    validators = [InputRequired("Please write a short note.")] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=NOTE_MAX)], render_kw={"rows": 3,
                                                                                          "maxlength": NOTE_MAX})


class ContactForm(FlaskForm):
    action = HiddenField(default="contact")
    channel = RadioField("How", choices=[SelectChoice(key, label) for key, label in CHANNEL_LABELS.items()],
                         validators=[InputRequired("Please choose how you contacted the customer.")])
    outcome = RadioField("What came of it", choices=[SelectChoice(key, label) for key, label in OUTCOME_LABELS.items()],
                         validators=[InputRequired("Please choose what came of it.")])
    at = DateTimeLocalField("When (UTC; leave empty for now)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    note = _note("Note (optional)")

    def when(self):
        return self.at.data.replace(tzinfo=UTC) if self.at.data else None


class ResolveForm(FlaskForm):
    action = HiddenField(default="resolve")
    note = _note("How was it resolved?", required=True)


class ReopenForm(FlaskForm):
    action = HiddenField(default="reopen")
    note = _note("Why reopen it?", required=True)


class ReassignForm(FlaskForm):
    action = HiddenField(default="reassign")
    assignee = SelectField("Give it to", coerce=int, validators=[InputRequired("Please choose who takes it over.")],
                           validate_choice=False)
    note = _note("Note for them (optional)")


class NoteForm(FlaskForm):
    action = HiddenField(default="note")
    note = _note("Note", required=True)


class RecoveryForm(FlaskForm):
    action = HiddenField(default="recovery")


PAGE_FORMS = {"contact": ContactForm, "resolve": ResolveForm, "reopen": ReopenForm, "reassign": ReassignForm,
              "note": NoteForm, "recovery": RecoveryForm}


def page_forms(assignees, submitted=None):
    """One instance of each form; only the `submitted` one reads the request's data."""
    forms = {}
    for name, form_class in PAGE_FORMS.items():
        forms[name] = form_class(prefix=name) if name == submitted else form_class(prefix=name, formdata=None)
    forms["reassign"].assignee.choices = [SelectChoice(user.id, f"{user.name or user.email} ({user.role})")
                                          for user in assignees]
    return forms


class CustomerSearchForm(FlaskForm):
    action = HiddenField(default="search")
    email = StringField("Customer's email address", validators=[
        InputRequired("Please enter an email address."), Email("Please enter a valid email address."),
        Length(max=254),
    ], render_kw={"type": "email", "autocomplete": "off"})


class EraseForm(FlaskForm):
    action = HiddenField(default="erase")
    email = StringField("Customer's email address", validators=[
        InputRequired("Please enter the address to erase."), Email("Please enter a valid email address."),
        Length(max=254),
    ], render_kw={"type": "email", "autocomplete": "off"})
    confirm = BooleanField("I understand this removes the customer's name, address and phone number everywhere "
                           "and cannot be undone.", validators=[InputRequired("Please confirm.")])


class DigestForm(FlaskForm):
    """How often the digest email comes (perception.followups.digest_service)."""

    frequency = RadioField("Send me the digest email", choices=[
        SelectChoice("weekly", "Weekly (with the first delivery run of each week)"), SelectChoice("daily", "Daily"),
        SelectChoice("off", "Never")],
        validators=[InputRequired("Choose how often, or never.")])
