"""Admins' forms for the item bank: a dimension, an item's wordings (English for the three
perspectives, and the customer wording in every other language of the customer pages)."""

from babel import Locale
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from perception.surveys.bank_service import KEY_RULE, MAX_WORDING, TRANSLATED, Wording
from perception.web.i18n import LANGUAGES


def language_name(code):
    """"German (Deutsch)": the admin pages are in English."""
    return f"{Locale.parse(code).get_display_name('en')} ({LANGUAGES[code]})"


def _wording_field(label, required=True):
    validators = [InputRequired(f"Please write the {label.lower()}.")] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=MAX_WORDING)], render_kw={"rows": 2})


class DimensionForm(FlaskForm):
    key = StringField("Key (used in reports and the API; never changes)",
                      validators=[Optional(), Length(max=40)])
    name = StringField("Name", validators=[InputRequired("Please give the dimension a name."), Length(max=80)])
    description = StringField("What customers feel when it goes well (optional)", validators=[Length(max=300)])


class ItemForm(FlaskForm):
    """Built with the bank's dimensions when adding an item; editing leaves the key and dimension as they are."""

    dimension = SelectField("Dimension", choices=[])
    key = StringField("Key (the column in imports and exports; never changes)", validators=[Optional(), Length(max=60)],
                      description=KEY_RULE)
    customer = _wording_field("Customers' wording")
    staff = _wording_field("Staff wording")
    leader = _wording_field("Leaders' wording")

    def wording(self):
        return Wording(self.customer.data or "", self.staff.data or "", self.leader.data or "",
                       {language: self[f"customer_{language}"].data or "" for language in TRANSLATED})

    def fill_from(self, version, shown):
        self.customer.data, self.staff.data, self.leader.data = (
            version.customer_text, version.staff_text, version.leader_text)
        for language in TRANSLATED:
            self[f"customer_{language}"].data = shown.get(language, "")


# One optional field per translated language of the customer pages (German today).
for _language in TRANSLATED:
    setattr(ItemForm, f"customer_{_language}",
            _wording_field(f"Customers' wording in {language_name(_language)}", required=False))


def item_form(dimensions=None, **kwargs):
    form = ItemForm(**kwargs)
    if dimensions is None:
        del form.dimension, form.key  # an item's key and dimension never change
    else:
        form.dimension.choices = [(dimension.key, dimension.name) for dimension in dimensions]
    return form
