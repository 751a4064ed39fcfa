"""The customer's pages of invitations: the open (multi-use) link `/s/o/<token>` from a QR code on a
counter, receipt or table, and unsubscribing from survey mail without logging in.

Open links: As with personal links, the token is swapped at once for a session value and the browser sent to
`/s/o/answer`. Stuffing guards: a browser that answered carries a signed cookie and is shown
"you already answered"; each address (an IPv6 one by its /64) may send OPEN_LINK_RATE_LIMIT
responses, and each link takes OPEN_LINK_LINK_LIMIT responses from all addresses together (only
answers count, each as it is about to be stored: security.take), so many addresses cannot flood one QR
link (and its follow-ups) either.

Unsubscribing: The link in every mail (and its List-Unsubscribe header) carries a signed invitation id. GET
shows a confirmation page; POST unsubscribes. The POST is exempt from CSRF on purpose: mail
programs send the RFC 8058 one-click POST ("List-Unsubscribe=One-Click") with no form token,
and the signed value in the URL is itself the proof that the request comes from the mail."""

from types import SimpleNamespace

from flask import abort, current_app, redirect, render_template, request, session, url_for

from perception.core.database import session_id
from perception.core.extensions import csrf, db, limiter
from perception.core.models import OpenLink
from perception.invitations.open_link_service import (
    ANSWERED_COOKIE,
    ANSWERED_COOKIE_DAYS,
    answered_cookie_value,
    answered_surveys,
    find_open_link,
    new_visit,
    record_open_response,
)
from perception.invitations.queries import invitation_for_unsubscribe
from perception.invitations.service import unsubscribe
from perception.responses.forms import customer_form_class
from perception.surveys.queries import customer_minutes, wave_items
from perception.web.customer import bp as customer
from perception.web.customer import guess_failed
from perception.web.forms import collect_scores, contact_choice
from perception.web.security import client_key, give_back, take

SESSION_KEY = "survey_open_link"


def _problem(link):
    """The page to show instead of the form, or None when the link may be answered."""
    if link is None:
        return render_template("web/unknown.html"), 404
    # A wave scoped away from the link's team since (an admin's edit) no longer asks that team.
    if not link.active or not link.survey.is_accepting() or not link.survey.covers_team(link.team_id):
        return render_template("web/closed.html"), 410
    if link.survey_id in answered_surveys(request.cookies.get(ANSWERED_COOKIE)):
        return render_template("web/answered.html"), 200
    return None


@customer.get("/o/<token>")
@limiter.limit("30 per minute", deduct_when=guess_failed)
def open_survey(token):
    link = find_open_link(token)
    problem = _problem(link)
    if problem is not None:
        return problem
    session[SESSION_KEY] = [link.id, new_visit()]
    return redirect(url_for("survey.open_answer"), code=303)


def _visit():
    """(open link, visit) of this browser's session; a session from before visits holds the id alone."""
    value = session.get(SESSION_KEY)
    if session_id(value):
        return db.session.get(OpenLink, value), None
    if isinstance(value, list) and len(value) == 2 and session_id(value[0]) and isinstance(value[1], str):
        return db.session.get(OpenLink, value[0]), value[1]
    return None, None


def _within_limits(link):
    """Count this answer against the address's and the link's limits, as it is about to be stored
    (only answers count, not a form sent back with a missing answer)."""
    config = current_app.config
    return take((config["OPEN_LINK_RATE_LIMIT"], ("open-link-answer", client_key())),
                (config["OPEN_LINK_LINK_LIMIT"], ("open-link", str(link.id))))


def _answered(response, survey):
    """`response`, telling the browser that it answered `survey` (the signed "answered" cookie)."""
    response.set_cookie(
        ANSWERED_COOKIE, answered_cookie_value(request.cookies.get(ANSWERED_COOKIE), survey.id),
        max_age=ANSWERED_COOKIE_DAYS * 86400, path="/s/", httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@customer.route("/o/answer", methods=["GET", "POST"])
def open_answer():
    link, visit = _visit()
    problem = _problem(link)
    if problem is not None:
        return problem
    survey = link.survey
    items = wave_items(survey)  # in the wording this wave asks
    form = customer_form_class(items, survey.ask_nps)()
    if form.validate_on_submit():
        if not _within_limits(link):
            abort(429)
        stored = record_open_response(
            link, collect_scores(form, items, "item"), comment=form.comment.data,
            nps=form.nps.data if survey.ask_nps else None, contact=contact_choice(form), visit=visit,
        )
        session.pop(SESSION_KEY, None)
        if stored is None:  # this visit's form, sent again: one response was stored
            give_back()
            # The browser may never have got the first answer's cookie (a phone resending after a
            # dropped connection): this one sets it, or the link would ask it again (a review).
            return _answered(current_app.make_response((render_template("web/answered.html"), 200)), survey)
        return _answered(redirect(url_for("survey.thanks"), code=303), survey)
    # The form template speaks to one customer; an open link knows only the team.
    visitor = SimpleNamespace(customer_name=None, team=link.team, staff=None)
    return render_template("responses/form.html", form=form, survey=survey, invitation=visitor,
                           minutes=customer_minutes(len(items), survey.ask_nps)), (400 if form.errors else 200)


@customer.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit("30 per minute", deduct_when=guess_failed)
def unsubscribe_page(token):
    invitation = invitation_for_unsubscribe(token)
    if invitation is None:
        return render_template("web/unknown.html"), 404
    if request.method == "POST":
        unsubscribe(invitation)
        return render_template("invitations/unsubscribed.html")
    return render_template("invitations/unsubscribe.html", already=invitation.unsubscribed_at is not None)
