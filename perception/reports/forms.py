"""The dashboard's filters: a GET form (no CSRF, a view can be bookmarked) of team and month range."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from perception.reports.queries import ReportError, parse_month

MONTH_HINT = "Write the month as YYYY-MM, for example 2026-03."


def _month(form, field):
    try:
        parse_month(field.data, field.name)
    except ReportError:
        raise ValidationError(MONTH_HINT) from None


def check_team(form, field):
    """The team filter: a team from the list; a team's leader sees their team only."""
    fixed = form.fixed_team
    if fixed is not None and field.data and field.data != fixed.name:
        raise ValidationError(f"You lead {fixed.name}: these figures are for {fixed.name} only.")
    if field.data and field.data not in form.teams_by_name:
        raise ValidationError("There is no team with that name. Choose one from the list.")


class DashboardFilters(FlaskForm):
    """Filters read from the query string. No CSRF: a GET changes nothing. With `fixed_team` (a team's
    leader, perception.accounts.scope) the team is forced to it: no "All teams", another team refused."""

    class Meta:
        csrf = False

    team = SelectField("Team", choices=[SelectChoice("", "All teams")], validate_choice=False)
    month_from = StringField("From month", name="from", validators=[Optional(), _month],
                             render_kw={"type": "month", "placeholder": "YYYY-MM", "inputmode": "numeric"})
    month_to = StringField("To month", name="to", validators=[Optional(), _month],
                           render_kw={"type": "month", "placeholder": "YYYY-MM", "inputmode": "numeric"})

    def __init__(self, teams, fixed_team=None, **kwargs):
        super().__init__(**kwargs)
        self.fixed_team = fixed_team
        self.teams_by_name = {team.name: team for team in teams}
        self.team.choices = [SelectChoice(team.name, team.name) for team in teams]
        if fixed_team is None:
            self.team.choices.insert(0, SelectChoice("", "All teams"))
        elif not self.team.data:
            self.team.data = fixed_team.name

    def validate_team(self, field):
        check_team(self, field)

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.month_from.data and self.month_to.data and self.month_from.data > self.month_to.data:
            self.month_to.errors.append("The last month must not be before the first month.")
            return False
        return True

    def selection(self):
        """Keyword arguments for build_dashboard."""
        return {
            "team": self.teams_by_name.get(self.team.data or "") or self.fixed_team,
            "month_from": self.month_from.data or None,
            "month_to": self.month_to.data or None,
        }
