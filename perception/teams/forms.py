"""The admin's team forms: a name (create, rename), a merge, and the archive / restore buttons."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from perception.accounts.team_service import NAME_MAX


class TeamNameForm(FlaskForm):
    name = StringField("Team name", validators=[InputRequired("Please give the team a name."),
                                                Length(max=NAME_MAX, message=f"Please keep the name to {NAME_MAX} "
                                                                             "characters.")],
                       render_kw={"maxlength": NAME_MAX, "autocomplete": "off"})


class MergeForm(FlaskForm):
    into = SelectField("Merge into", coerce=int, validators=[InputRequired("Please choose the team to merge into.")])
    confirm = BooleanField("I understand: everything of this team moves to the other one, and this cannot be undone",
                           validators=[DataRequired("Please tick the box to confirm the merge.")])

    def __init__(self, targets, **kwargs):
        super().__init__(**kwargs)
        self.into.choices = [SelectChoice(team.id, team.name) for team in targets]


class TeamActionForm(FlaskForm):
    """Archive or restore: CSRF only."""
