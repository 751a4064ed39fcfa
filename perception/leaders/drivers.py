"""Key drivers: which dimension of care to work on first (importance × performance matrix)."""

from flask import render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..charts.drivers import driver_matrix, quadrant_label
from ..drivers_query import driver_report
from ..insights import DRIVER_MIN_N, OUTCOMES
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .queries import all_teams
from .views import LEADERS, bp


class DriverFilters(FlaskForm):
    """Read from the query string (a GET changes nothing, so no CSRF)."""

    class Meta:
        csrf = False

    team = SelectField("Team", validate_choice=False)
    outcome = SelectField("Outcome", default="nps", validate_choice=False,
                          choices=[SelectChoice("nps", "Likelihood to recommend (0–10)"),
                                   SelectChoice("care", "Overall care score")])

    def __init__(self, teams, **kwargs):
        super().__init__(**kwargs)
        self.teams_by_name = {team.name: team for team in teams}
        self.team.choices = [SelectChoice("", "All teams")] + [SelectChoice(t.name, t.name) for t in teams]

    def validate_team(self, field):
        if field.data and field.data not in self.teams_by_name:
            raise ValidationError("There is no team with that name. Choose one from the list.")

    def validate_outcome(self, field):
        if (field.data or "nps") not in OUTCOMES:
            raise ValidationError("Choose likelihood to recommend or the overall care score.")


@bp.get("/surveys/<slug>/drivers")
@roles_required(*LEADERS)
def drivers(slug):
    survey = survey_by_slug_or_404(slug)
    form = DriverFilters(all_teams(), formdata=request.args)
    report = chart = None
    if form.validate():
        team = form.teams_by_name.get(form.team.data or "")
        report = driver_report(survey, outcome=form.outcome.data or "nps", team=team)
        chart = driver_matrix(report)
    return render_template(
        "leaders/drivers.html", survey=survey, form=form, report=report, chart=chart,
        quadrant_label=quadrant_label, driver_min_n=DRIVER_MIN_N,
    ), (200 if report is not None else 400)
