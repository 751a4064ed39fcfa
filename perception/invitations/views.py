"""Leaders invite customers to a survey (one at a time or by CSV upload), follow the funnel, and make
open (multi-use) links for counters, receipts and tables with their QR codes. A team's leader works
for their own team only (perception.accounts.scope): its invitations, funnel and open links."""

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from perception.accounts.scope import own_team
from perception.invitations.csv_import import TEMPLATE, CsvInvitationError, import_invitations
from perception.invitations.forms import ConfirmForm, InviteForm, OpenLinkForm, UploadForm
from perception.invitations.open_link_service import (
    OpenLinkError,
    create_open_link,
    open_link_for,
    open_link_url,
    open_links_for,
    qr_png,
    qr_svg,
    set_active,
)
from perception.invitations.queries import (
    invitation_link,
    recent_invitations,
    staff_of,
    survey_funnel,
    survey_teams,
)
from perception.invitations.service import (
    InvitationError,
    InvitationRequest,
    check_email,
    find_staff_member,
    invite,
    visit_on,
)
from perception.surveys.queries import visible_survey_or_404
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required


def _page(survey, invite_form=None, upload_form=None, csv_errors=None, new_link=None, problem=None, status=200):
    teams = survey_teams(survey, current_user)
    return render_template(
        "invitations/invitations.html", survey=survey,
        invite_form=invite_form or InviteForm(teams, staff_of(teams), formdata=None),
        upload_form=upload_form or UploadForm(formdata=None), csv_errors=csv_errors, new_link=new_link,
        problem=problem, funnel=survey_funnel(survey, own_team(current_user)),
        invitations=recent_invitations(survey, current_user), accepting=survey.is_accepting(),
        own_team=own_team(current_user),
    ), status


@leaders.get("/surveys/<slug>/invitations")
@roles_required(*LEADERS)
def invitations(slug):
    survey = visible_survey_or_404(slug, current_user)
    teams = survey_teams(survey, current_user)
    form = InviteForm(teams, staff_of(teams), formdata=None, interaction_date=datetime.now(UTC).date())
    return _page(survey, invite_form=form)


def _request_from(form, survey, teams):
    team = next(team for team in teams if team.name == form.team.data)
    email = check_email(form.email.data) if form.email.data else None
    staff = find_staff_member(form.staff_email.data, team, created_by=current_user) if form.staff_email.data else None
    visit = visit_on(form.interaction_date.data)
    return InvitationRequest(survey=survey, team=team, email=email, name=form.name.data or None, staff=staff,
                             interaction_at=visit, language=form.language.data or None, deliver=form.deliver.data)


@leaders.post("/surveys/<slug>/invitations")
@roles_required(*LEADERS)
def invite_one(slug):
    survey = visible_survey_or_404(slug, current_user)
    teams = survey_teams(survey, current_user)
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


@leaders.post("/surveys/<slug>/invitations/upload")
@roles_required(*LEADERS)
def upload_invitations(slug):
    survey = visible_survey_or_404(slug, current_user)
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


@leaders.get("/surveys/<slug>/invitations/template.csv")
@roles_required(*LEADERS)
def invitations_template(slug):
    survey = visible_survey_or_404(slug, current_user)
    return Response(TEMPLATE, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitations-{survey.slug}.csv"',
        "Cache-Control": "no-store",
    })


def _open_links_page(survey, form, status=200):
    links = [(link, open_link_url(link)) for link in open_links_for(survey, current_user)]
    return render_template("invitations/open_links.html", survey=survey, form=form, links=links,
                           confirm=ConfirmForm(), accepting=survey.is_accepting()), status


@leaders.route("/surveys/<slug>/open-links", methods=["GET", "POST"])
@roles_required(*LEADERS)
def open_links(slug):
    survey = visible_survey_or_404(slug, current_user)
    teams = survey_teams(survey, current_user)
    form = OpenLinkForm(teams)
    if request.method == "POST":
        if not form.validate_on_submit():
            return _open_links_page(survey, form, 400)
        team = next(team for team in teams if team.name == form.team.data)
        try:
            create_open_link(survey, team, form.label.data, created_by=current_user)
        except OpenLinkError as error:
            form.team.errors.append(str(error))
            return _open_links_page(survey, form, 400)
        flash(f"Open link for {team.name} made. Download its QR code below.")
        return redirect(url_for("leaders.open_links", slug=survey.slug), code=303)
    return _open_links_page(survey, form)


def _link_or_404(link_id):
    link = open_link_for(current_user, link_id)  # another team's link: 404, as if it did not exist
    if link is None:
        abort(404)
    return link


@leaders.post("/open-links/<int:link_id>/active")
@roles_required(*LEADERS)
def toggle_open_link(link_id):
    link = _link_or_404(link_id)
    if ConfirmForm().validate_on_submit():
        set_active(link, not link.active)
        flash(f"The open link for {link.team.name} is {'on again' if link.active else 'switched off'}.")
    return redirect(url_for("leaders.open_links", slug=link.survey.slug), code=303)


@leaders.get("/open-links/<int:link_id>/qr.png", defaults={"kind": "png"})
@leaders.get("/open-links/<int:link_id>/qr.svg", defaults={"kind": "svg"})
@roles_required(*LEADERS)
def open_link_qr(link_id, kind):
    link = _link_or_404(link_id)
    url = open_link_url(link)
    body, mimetype = (qr_png(url), "image/png") if kind == "png" else (qr_svg(url), "image/svg+xml")
    name = f"survey-{link.survey.slug}-{link.team.name}".lower().replace(" ", "-")
    headers = {"Cache-Control": "private, max-age=3600"}
    if request.args.get("download") == "1":
        headers["Content-Disposition"] = f'attachment; filename="{_safe(name)}.{kind}"'
    return Response(body, mimetype=mimetype, headers=headers)


def _safe(name):
    return "".join(char for char in name if char.isalnum() or char in "-_")[:80] or "survey"
