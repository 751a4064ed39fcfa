"""Forms of the admins' people pages: the filter of the list, inviting, changing role and team, and
the one-button actions (deactivate, activate, send a new link)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from perception.accounts.people_queries import STATUSES
from perception.core.models import ROLES

ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]
NO_TEAM = "none"


def team_choices(teams, blank):
    """Choices of a team picker: `blank` first (value ""), then the teams by id."""
    return [SelectChoice("", blank)] + [SelectChoice(str(team.id), team.name) for team in teams]


class PeopleFilterForm(FlaskForm):
    """Read from the query string (GET): no CSRF, nothing changes."""

    class Meta:
        csrf = False

    q = StringField("Name or email contains", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES], validators=[Optional()])
    team = SelectField("Team", validators=[Optional()])
    status = SelectField("Status", choices=[SelectChoice("", "Any status"),
                                            *(SelectChoice(key, text) for key, text in STATUSES.items())],
                         validators=[Optional()])

    def set_teams(self, teams):
        self.team.choices = team_choices(teams, "Any team") + [SelectChoice(NO_TEAM, "No team")]


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Please enter the person's email."),
                                            Email("Please enter a valid email address."), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120, message="At most 120 characters.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default="staff")
    team = SelectField("Team", validators=[Optional()])

    def set_teams(self, teams):
        self.team.choices = team_choices(teams, "No team")


class EditPersonForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    team = SelectField("Team", validators=[Optional()])

    def set_teams(self, teams):
        self.team.choices = team_choices(teams, "No team")


class PersonActionForm(FlaskForm):
    pass
