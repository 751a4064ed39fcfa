"""The audit page's filters: a GET form (no CSRF: it changes nothing, and a filtered view can be
bookmarked or shared between admins)."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from perception.audit.queries import AuditFilters
from perception.core.audit import ACTIONS


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField("What", validate_choice=True, default="")
    actor = StringField("Who (account email or part of it)", validators=[Optional(), Length(max=254)])
    day_from = DateField("From day", name="from", validators=[Optional()])
    day_to = DateField("To day", name="to", validators=[Optional()])
    target_type = SelectField("On what", validate_choice=True, default="")
    target_id = StringField("Id", validators=[Optional(), Length(max=64)])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def __init__(self, target_types, **kwargs):
        super().__init__(**kwargs)
        self.action.choices = [SelectChoice("", "Everything")] + [SelectChoice(action, action) for action in ACTIONS]
        self.target_type.choices = [SelectChoice("", "Anything")] + [SelectChoice(kind, kind) for kind in target_types]

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.day_from.data and self.day_to.data and self.day_from.data > self.day_to.data:
            self.day_to.errors.append("The last day must not be before the first day.")
            return False
        return True

    def filters(self):
        return AuditFilters(
            action=self.action.data or None, actor=(self.actor.data or "").strip() or None,
            day_from=self.day_from.data, day_to=self.day_to.data, target_type=self.target_type.data or None,
            target_id=(self.target_id.data or "").strip() or None,
        )

    def query(self, **changes):
        """The query string of these filters (for paging and the CSV link), with `changes` applied."""
        values = {"action": self.action.data, "actor": self.actor.data,
                  "from": self.day_from.data.isoformat() if self.day_from.data else None,
                  "to": self.day_to.data.isoformat() if self.day_to.data else None,
                  "target_type": self.target_type.data, "target_id": self.target_id.data}
        values.update(changes)
        return {name: value for name, value in values.items() if value not in (None, "")}
