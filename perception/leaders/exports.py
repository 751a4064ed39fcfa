"""Leaders' exports: the anonymous responses CSV, the gap report CSV and the printable report."""

from flask import Response, current_app, render_template, request
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from .. import tags
from ..charts.base import cell_text, gap_text, mean_ci, number, percent
from ..charts.drivers import quadrant_label
from ..charts.svg import means_svg
from ..drivers_query import driver_report
from ..exporter import csv_chunks, export_rows, gap_rows
from ..extensions import db
from ..models import Survey, utcnow
from ..reports import ReportError, gap_report
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .forms import DashboardFilters
from .queries import all_teams
from .views import LEADERS, bp

FIELDS = {"from": "month_from", "to": "month_to", "team": "team", "by": "by"}


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
        form[FIELDS.get(error.field, "month_from")].errors.append(str(error))
        return None


@bp.get("/surveys/<slug>/exports")
@roles_required(*LEADERS)
def exports(slug):
    survey = survey_by_slug_or_404(slug)
    form = ReportFilters(all_teams(), formdata=request.args)
    return render_template("leaders/exports.html", survey=survey, form=form,
                           min_n=current_app.config["MIN_N"])


@bp.get("/surveys/<slug>/export.csv")
@roles_required(*LEADERS)
def export_responses(slug):
    survey = survey_by_slug_or_404(slug)
    chunks = _streamed(current_app._get_current_object(), survey.id, current_app.config["MIN_N"])
    return _csv_response(chunks, f"{survey.slug}-responses.csv")


def _streamed(app, survey_id, min_n):
    """The anonymous export, read while the body is sent. The request's context is gone by then,
    so the generator opens an app context of its own (with its own database session) when the
    server starts reading it, and closes it at the end; a body never read opens nothing."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        yield from csv_chunks(export_rows(survey, anonymous=True, min_n=min_n))


@bp.get("/surveys/<slug>/gap.csv")
@roles_required(*LEADERS)
def export_gap(slug):
    survey = survey_by_slug_or_404(slug)
    form = ReportFilters(all_teams(), formdata=request.args)
    report = _report_or_errors(survey, form, by=form.by.data or None)
    if report is None:
        return render_template("leaders/exports.html", survey=survey, form=form,
                               min_n=current_app.config["MIN_N"]), 400
    return _csv_response(csv_chunks(gap_rows(report)), f"{survey.slug}-gap.csv")


@bp.get("/surveys/<slug>/report/print")
@roles_required(*LEADERS)
def print_report(slug):
    survey = survey_by_slug_or_404(slug)
    form = ReportFilters(all_teams(), formdata=request.args)
    report = _report_or_errors(survey, form)
    if report is None:
        return render_template("leaders/exports.html", survey=survey, form=form,
                               min_n=current_app.config["MIN_N"]), 400
    team = form.selection()["team"]
    drivers = driver_report(survey, outcome="nps", team=team)
    board = tags.board(survey, report.min_n, team_id=team.id if team else None, limit=3)
    return render_template(
        "leaders/report_print.html", survey=survey, report=report, drivers=drivers, board=board,
        chart=means_svg(report), quadrant_label=quadrant_label, generated=utcnow(),
        cell_text=cell_text, gap_text=gap_text, mean_ci=mean_ci, number=number, percent=percent,
    )
