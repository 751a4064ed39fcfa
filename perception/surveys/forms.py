"""Leaders' forms for survey waves: create or edit a wave from the item bank, and open or close it."""

from datetime import UTC, date, datetime, time, timedelta

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from perception.insights.effort import phone_minutes
from perception.surveys.service import SLUG_RE

LAST_DAY_LIMIT = date(2100, 1, 1)  # a wave's last day comes before it (9999-12-31 overflowed: a 500)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WaveForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired("Please give the wave a title."), Length(max=200)])
    slug = StringField(
        "Short name (used in addresses, exports and the API)",
        validators=[
            Optional(),
            Length(min=3, max=80, message="Please use between 3 and 80 characters."),
            Regexp(SLUG_RE, message="Use lowercase letters, digits and single hyphens, e.g. care-check-2026-q3."),
        ],
    )
    dimensions = MultiCheckboxField("Whole dimensions", choices=[], validate_choice=False)
    items = MultiCheckboxField("Items", choices=[], coerce=int, validate_choice=False)
    opens_on = DateField("Opens on (optional)", validators=[Optional()])
    last_day = DateField("Last day for answers (optional)", validators=[Optional()])
    teams = MultiCheckboxField("Teams", choices=[], coerce=int, validate_choice=False)
    ask_nps = BooleanField("Also ask customers how likely they are to recommend us (0–10)")

    def __init__(self, bank, teams, **kwargs):
        super().__init__(**kwargs)
        self.bank = bank  # [(Dimension, [Item, ...]), ...]
        self.dimensions.choices = [SelectChoice(dimension.key, dimension.name) for dimension, _ in bank]
        self.items.choices = [SelectChoice(item.id, item.customer_text) for _, items in bank for item in items]
        # `teams` may hold archived teams a wave covers already: offered, marked, so that saving keeps them.
        self.teams.choices = [SelectChoice(team.id, f"{team.name} (archived)" if team.archived else team.name)
                              for team in teams]
        self.archived_teams = [team for team in teams if team.archived]

    def validate_last_day(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("The last day must not be before the day the wave opens.")
        if field.data and field.data >= LAST_DAY_LIMIT:  # the wave closes at the midnight after it
            raise ValidationError(f"Please choose a last day before {LAST_DAY_LIMIT:%d %b %Y}.")

    def chosen_item_ids(self):
        """Ticked items plus every item of a ticked dimension."""
        ids = set(self.items.data or [])
        whole = set(self.dimensions.data or [])
        for dimension, items in self.bank:
            if dimension.key in whole:
                ids.update(item.id for item in items)
        return ids

    def phone_estimate(self):
        """What the page says of a customer's time on a phone (perception.insights.effort), for the
        chosen items, and the minutes for every count with and without the 0-10 question, so that
        static/js/wave-form.js can follow the ticks without a second definition."""
        statements = len(self.chosen_item_ids())
        most = sum(len(items) for _, items in self.bank)
        return {
            "statements": statements,
            "minutes": phone_minutes(statements, recommend=bool(self.ask_nps.data)),
            "table": {
                "recommend": [phone_minutes(count) for count in range(most + 1)],
                "plain": [phone_minutes(count, recommend=False) for count in range(most + 1)],
            },
        }

    def dates(self):
        """(opens_at, closes_at): midnight UTC of the opening day and of the day after the last day."""
        opens_at = _midnight(self.opens_on.data) if self.opens_on.data else None
        closes_at = _midnight(self.last_day.data + timedelta(days=1)) if self.last_day.data else None
        return opens_at, closes_at

    def fill_from(self, survey):
        self.title.data, self.slug.data, self.ask_nps.data = survey.title, survey.slug, survey.ask_nps
        self.items.data = [item.id for item in survey.items]
        self.teams.data = [team.id for team in survey.teams]
        self.opens_on.data = survey.opens_at.date() if survey.opens_at else None
        self.last_day.data = (survey.closes_at - timedelta(microseconds=1)).date() if survey.closes_at else None


def _midnight(day: date):
    return datetime.combine(day, time(0), tzinfo=UTC)


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""
