"""Leaders invite customers to a survey: one at a time or by CSV upload, and follow the funnel."""

from datetime import UTC, datetime

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from ..funnel import recent_invitations, staff_of, survey_funnel, survey_teams
from ..invitation_csv import TEMPLATE, CsvInvitationError, import_invitations
from ..invitations import (
    InvitationError,
    InvitationRequest,
    check_email,
    find_staff_member,
    invitation_link,
    invite,
    visit_on,
)
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .invitation_forms import InviteForm, UploadForm
from .views import LEADERS, bp


def _page(survey, invite_form=None, upload_form=None, csv_errors=None, new_link=None, problem=None, status=200):
    teams = survey_teams(survey)
    return render_template(
        "leaders/invitations.html", survey=survey,
        invite_form=invite_form or InviteForm(teams, staff_of(teams), formdata=None),
        upload_form=upload_form or UploadForm(formdata=None), csv_errors=csv_errors, new_link=new_link,
        problem=problem, funnel=survey_funnel(survey), invitations=recent_invitations(survey),
        accepting=survey.is_accepting(),
    ), status


@bp.get("/surveys/<slug>/invitations")
@roles_required(*LEADERS)
def invitations(slug):
    survey = survey_by_slug_or_404(slug)
    teams = survey_teams(survey)
    form = InviteForm(teams, staff_of(teams), formdata=None, interaction_date=datetime.now(UTC).date())
    return _page(survey, invite_form=form)


def _request_from(form, survey, teams):
    team = next(team for team in teams if team.name == form.team.data)
    email = check_email(form.email.data) if form.email.data else None
    staff = find_staff_member(form.staff_email.data, team) if form.staff_email.data else None
    visit = visit_on(form.interaction_date.data)
    return InvitationRequest(survey=survey, team=team, email=email, name=form.name.data or None, staff=staff,
                             interaction_at=visit, language=form.language.data or None, deliver=form.deliver.data)


@bp.post("/surveys/<slug>/invitations")
@roles_required(*LEADERS)
def invite_one(slug):
    survey = survey_by_slug_or_404(slug)
    teams = survey_teams(survey)
    form = InviteForm(teams, staff_of(teams))
    if not form.validate_on_submit():
        return _page(survey, invite_form=form, status=400)
    try:
        invitation, _token = invite(_request_from(form, survey, teams), created_by=current_user)
    except InvitationError as error:
        field = {"interaction_at": "interaction_date"}.get(error.field, error.field)
        message = str(error)[:1].upper() + str(error)[1:] + "."
        if field in form:
            form[field].errors.append(message)
            return _page(survey, invite_form=form, status=400)
        return _page(survey, invite_form=form, problem=message, status=400)
    if form.deliver.data == "none":
        # Shown on this page only (never in a flash message, which travels in the session cookie).
        return _page(survey, new_link=invitation_link(invitation))
    flash(f"Invitation to {invitation.customer_email} queued: it goes out with the next send-invitations run.")
    return redirect(url_for("leaders.invitations", slug=survey.slug), code=303)


@bp.post("/surveys/<slug>/invitations/upload")
@roles_required(*LEADERS)
def upload_invitations(slug):
    survey = survey_by_slug_or_404(slug)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(survey, upload_form=form, status=400)
    raw = form.file.data.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors.append("The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.")
        return _page(survey, upload_form=form, status=400)
    try:
        created = import_invitations(survey, text, created_by=current_user)
    except CsvInvitationError as error:
        return _page(survey, upload_form=form, csv_errors=error.errors, status=400)
    flash(f"{len(created)} invitations queued: they go out with the next send-invitations run.")
    return redirect(url_for("leaders.invitations", slug=survey.slug), code=303)


@bp.get("/surveys/<slug>/invitations/template.csv")
@roles_required(*LEADERS)
def invitations_template(slug):
    survey = survey_by_slug_or_404(slug)
    return Response(TEMPLATE, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitations-{survey.slug}.csv"',
        "Cache-Control": "no-store",
    })
