"""Leaders' forms for inviting customers and making open links."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from perception.web.i18n import LANGUAGES


class InviteForm(FlaskForm):
    email = EmailField("Customer's email", validators=[Optional(), Length(max=254)])
    name = StringField("Customer's name (optional)", validators=[Optional(), Length(max=120)])
    team = SelectField("Team that served them", validators=[InputRequired("Please choose the team.")],
                       validate_choice=False)
    staff_email = SelectField("Staff member who served them (optional)", validators=[Optional()])
    interaction_date = DateField("Date of the visit or call", validators=[InputRequired("Please give the date.")])
    language = SelectField("Language of the email and survey",
                           choices=[SelectChoice("", "Browser's choice")]
                           + [SelectChoice(code, name) for code, name in LANGUAGES.items()])
    deliver = RadioField("How does the customer get the link?", default="email", choices=[
        SelectChoice("email", "We email it (with one reminder if they do not answer)"),
        SelectChoice("none", "Show me the link: I will pass it on myself"),
    ])

    def __init__(self, teams, staff, **kwargs):
        super().__init__(**kwargs)
        self.team.choices = [SelectChoice(team.name, team.name) for team in teams]
        self.staff_email.choices = [SelectChoice("", "Not recorded")] + [
            SelectChoice(user.email, f"{user.name} ({user.team.name})") for user in staff
        ]

    def validate_team(self, field):
        check_team_choice(self, field)


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[
        FileRequired("Please choose a CSV file."),
        FileAllowed(["csv", "txt"], "Please upload a .csv file."),
    ])


class OpenLinkForm(FlaskForm):
    team = SelectField("Team", validators=[InputRequired("Please choose the team.")], validate_choice=False)
    label = StringField("Where it will be shown (optional)", validators=[Optional(), Length(max=120)],
                        render_kw={"placeholder": "e.g. Receipts, counter 2"})

    def __init__(self, teams, **kwargs):
        super().__init__(**kwargs)
        self.team.choices = [SelectChoice(team.name, team.name) for team in teams]

    def validate_team(self, field):
        check_team_choice(self, field)


def check_team_choice(form, field):
    """Only a team in the list: the survey's teams within the leader's scope (a team's leader: theirs)."""
    names = [choice.value for choice in field.choices]
    if field.data not in names:
        raise ValidationError(f"Choose a team from the list ({', '.join(names) or 'none'}): "
                              "you work for these teams only.")


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
