"""The leaders' dashboard: the gap report of one wave as headline figures and six charts."""

from flask import render_template, request

from ..reports import ReportError
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .dashboard_data import build_dashboard
from .forms import DashboardFilters
from .queries import all_teams
from .views import LEADERS, bp

FIELDS = {"from": "month_from", "to": "month_to", "team": "team"}


@bp.get("/surveys/<slug>/dashboard")
@roles_required(*LEADERS)
def dashboard(slug):
    survey = survey_by_slug_or_404(slug)
    form = DashboardFilters(all_teams(), formdata=request.args)
    dashboard = None
    if form.validate():
        try:
            dashboard = build_dashboard(survey, **form.selection())
        except ReportError as error:  # the form checks the same rules; this keeps any miss a message
            form[FIELDS.get(error.field, "month_from")].errors.append(str(error))
    status = 200 if dashboard is not None else 400
    return render_template("leaders/dashboard.html", survey=survey, form=form, dashboard=dashboard), status
