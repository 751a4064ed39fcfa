"""The leaders' report pages: the dashboard (headline figures and six charts), key drivers, and the
exports (anonymous responses CSV, gap report CSV, printable report). A team's leader reads the waves
that cover their team, for their team only (perception.accounts.scope): the filters are forced to it,
another team is a form error, another team's wave is 404."""

from flask import Response, current_app, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from perception.accounts.queries import active_and_archived_teams
from perception.accounts.scope import own_team, scoped_teams
from perception.board import queries as board_queries
from perception.charts.base import cell_text, gap_text, mean_ci, number, percent
from perception.charts.drivers import driver_matrix, quadrant_label
from perception.charts.svg import means_svg
from perception.core.csv_cells import csv_chunks
from perception.core.extensions import db
from perception.core.models import Survey, utcnow
from perception.insights import DRIVER_MIN_N
from perception.reports.dashboard import build_dashboard
from perception.reports.drivers_queries import driver_report
from perception.reports.export_queries import export_rows, gap_rows
from perception.reports.export_service import record_download
from perception.reports.forms import DashboardFilters, DashboardTeamList, DriverFilters
from perception.reports.queries import ReportError, gap_report
from perception.reports.trend_queries import trend_page
from perception.surveys.queries import visible_survey_or_404
from perception.web.forms import TeamFilters
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required

DASHBOARD_FIELDS = {"from": "month_from", "to": "month_to", "team": "team"}


def page_url(form, slug, page):
    """The dashboard with the same filters on another page of its team list: the query arguments of
    its `form`'s fields only, never others: url_for would take `slug` twice or `_method` and fail (a
    500), or `_external`, `_scheme` and `_anchor` and build another address."""
    kept = {field.name: request.args[field.name] for field in form
            if field.name != "page" and request.args.get(field.name)}
    return url_for("leaders.dashboard", slug=slug, **kept, page=page)


def team_url(slug, name):
    """The dashboard of one team, for the same months."""
    months = {key: value for key, value in request.args.items() if key in ("from", "to") and value}
    return url_for("leaders.dashboard", slug=slug, team=name, **months)


def _filters(form_class):
    """The page's filters from the query string, within the leader's team scope."""
    active, archived = active_and_archived_teams()
    return form_class(scoped_teams(current_user, active), fixed_team=own_team(current_user),
                      archived=scoped_teams(current_user, archived), formdata=request.args)


@leaders.get("/surveys/<slug>/dashboard")
@roles_required(*LEADERS)
def dashboard(slug):
    survey = visible_survey_or_404(slug, current_user)
    form = _filters(DashboardTeamList)
    dashboard = None
    valid = form.validate()
    # A wrong search, order or page is the team list's alone: the figures are drawn, the list with that
    # field's default and the field saying what was wrong (still a 400: the request was wrong).
    if valid or form.figures_valid():
        try:
            dashboard = build_dashboard(survey, **form.selection(), **form.team_list(),
                                        teams_in_scope=len(form.teams_by_name))
        except ReportError as error:  # the form checks the same rules; this keeps any miss a message
            form[DASHBOARD_FIELDS.get(error.field, "month_from")].errors.append(str(error))
    status = 200 if dashboard is not None and valid else 400
    return render_template("reports/dashboard.html", survey=survey, form=form, dashboard=dashboard,
                           page_url=page_url, team_url=team_url), status


@leaders.get("/surveys/<slug>/drivers")
@roles_required(*LEADERS)
def drivers(slug):
    survey = visible_survey_or_404(slug, current_user)
    form = _filters(DriverFilters)
    report = chart = None
    if form.validate():
        report = driver_report(survey, outcome=form.outcome.data or "nps", team=form.selected_team())
        chart = driver_matrix(report)
    return render_template(
        "reports/drivers.html", survey=survey, form=form, report=report, chart=chart,
        quadrant_label=quadrant_label, driver_min_n=DRIVER_MIN_N,
    ), (200 if report is not None else 400)


@leaders.get("/trend")
@roles_required(*LEADERS)
def trend():
    form = _filters(TeamFilters)
    document = charts = None
    if form.validate():
        document, charts = trend_page(current_user, form.selected_team())
    return render_template("reports/trend.html", form=form, document=document, charts=charts), \
        (200 if document is not None else 400)


EXPORT_FIELDS = {"from": "month_from", "to": "month_to", "team": "team", "by": "by"}


class ReportFilters(DashboardFilters):
    by = SelectField("One group per", validate_choice=False, default="",
                     choices=[SelectChoice("", "No groups"), SelectChoice("team", "Team"),
                              SelectChoice("month", "Month")])

    def validate_by(self, field):
        if field.data not in ("", None, "team", "month"):
            raise ValidationError("Choose no groups, team or month.")


def _csv_response(chunks, filename):
    response = Response(chunks, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _report_or_errors(survey, form, **extra):
    """The gap report for the form's filters, or None with the error attached to its field."""
    if not form.validate():
        return None
    try:
        return gap_report(survey, **form.selection(), **extra)
    except ReportError as error:
        form[EXPORT_FIELDS.get(error.field, "month_from")].errors.append(str(error))
        return None


@leaders.get("/surveys/<slug>/exports")
@roles_required(*LEADERS)
def exports(slug):
    survey = visible_survey_or_404(slug, current_user)
    form = _filters(ReportFilters)
    return render_template("reports/exports.html", survey=survey, form=form,
                           min_n=current_app.config["MIN_N"])


@leaders.get("/surveys/<slug>/export.csv")
@roles_required(*LEADERS)
def export_responses(slug):
    survey = visible_survey_or_404(slug, current_user)
    team = own_team(current_user)  # a team's leader downloads their team's rows only
    record_download(current_user, survey, "responses", team=team)
    chunks = _streamed(current_app._get_current_object(), survey.id, current_app.config["MIN_N"],
                       team.id if team is not None else None)
    return _csv_response(chunks, f"{survey.slug}-responses.csv")


def _streamed(app, survey_id, min_n, team_id):
    """The anonymous export, read while the body is sent. The request's context is gone by then,
    so the generator opens an app context of its own (with its own database session) when the
    server starts reading it, and closes it at the end; a body never read opens nothing."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        yield from csv_chunks(export_rows(survey, anonymous=True, min_n=min_n, team_id=team_id))


@leaders.get("/surveys/<slug>/gap.csv")
@roles_required(*LEADERS)
def export_gap(slug):
    survey = visible_survey_or_404(slug, current_user)
    form = _filters(ReportFilters)
    report = _report_or_errors(survey, form, by=form.by.data or None)
    if report is None:
        return render_template("reports/exports.html", survey=survey, form=form,
                               min_n=current_app.config["MIN_N"]), 400
    record_download(current_user, survey, "gap-report", **form.selection(), by=form.by.data)
    return _csv_response(csv_chunks(gap_rows(report)), f"{survey.slug}-gap.csv")


@leaders.get("/surveys/<slug>/report/print")
@roles_required(*LEADERS)
def print_report(slug):
    survey = visible_survey_or_404(slug, current_user)
    form = _filters(ReportFilters)
    report = _report_or_errors(survey, form)
    if report is None:
        return render_template("reports/exports.html", survey=survey, form=form,
                               min_n=current_app.config["MIN_N"]), 400
    team = form.selection()["team"]
    record_download(current_user, survey, "printable-report", **form.selection())
    drivers = driver_report(survey, outcome="nps", team=team)
    board = board_queries.board(survey, report.min_n, team_id=team.id if team else None, limit=3)
    return render_template(
        "reports/print.html", survey=survey, report=report, drivers=drivers, board=board,
        chart=means_svg(report), quadrant_label=quadrant_label, generated=utcnow(),
        cell_text=cell_text, gap_text=gap_text, mean_ci=mean_ci, number=number, percent=percent,
    )
