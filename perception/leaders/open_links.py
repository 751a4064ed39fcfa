"""Leaders make open (multi-use) links for counters, receipts and tables and download their QR codes."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..funnel import survey_teams
from ..models import OpenLink
from ..openlink import OpenLinkError, create_open_link, open_link_url, open_links_for, qr_png, qr_svg, set_active
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .invitation_forms import ConfirmForm, OpenLinkForm
from .views import LEADERS, bp


def _page(survey, form, status=200):
    links = [(link, open_link_url(link)) for link in open_links_for(survey)]
    return render_template("leaders/invitations_open_links.html", survey=survey, form=form, links=links,
                           confirm=ConfirmForm(), accepting=survey.is_accepting()), status


@bp.route("/surveys/<slug>/open-links", methods=["GET", "POST"])
@roles_required(*LEADERS)
def open_links(slug):
    survey = survey_by_slug_or_404(slug)
    teams = survey_teams(survey)
    form = OpenLinkForm(teams)
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page(survey, form, 400)
        team = next(team for team in teams if team.name == form.team.data)
        try:
            create_open_link(survey, team, form.label.data, created_by=current_user)
        except OpenLinkError as error:
            form.team.errors.append(str(error))
            return _page(survey, form, 400)
        flash(f"Open link for {team.name} made. Download its QR code below.")
        return redirect(url_for("leaders.open_links", slug=survey.slug), code=303)
    return _page(survey, form)


def _link_or_404(link_id):
    link = db.session.get(OpenLink, link_id)
    if link is None:
        abort(404)
    return link


@bp.post("/open-links/<int:link_id>/active")
@roles_required(*LEADERS)
def toggle_open_link(link_id):
    link = _link_or_404(link_id)
    if ConfirmForm().validate_on_submit():
        set_active(link, not link.active)
        flash(f"The open link for {link.team.name} is {'on again' if link.active else 'switched off'}.")
    return redirect(url_for("leaders.open_links", slug=link.survey.slug), code=303)


@bp.get("/open-links/<int:link_id>/qr.png", defaults={"kind": "png"})
@bp.get("/open-links/<int:link_id>/qr.svg", defaults={"kind": "svg"})
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
