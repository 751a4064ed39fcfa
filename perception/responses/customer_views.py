"""Customer views. The token in `/s/<token>` is swapped at once for a signed session value and
the browser redirected to `/s/answer`, so the token leaks through no Referer, history or log."""

from flask import redirect, render_template, session, url_for

from perception.core.database import session_id
from perception.core.extensions import limiter
from perception.responses.forms import cached_customer_form_class
from perception.responses.queries import (
    LINK_ANSWERED,
    LINK_GONE,
    LINK_OK,
    LINK_UNKNOWN,
    LINK_UNSUBSCRIBED,
    invitation_by_id,
    open_link,
)
from perception.responses.service import LinkReplaced, record_customer_response
from perception.surveys.queries import customer_minutes
from perception.web.customer import LINK_CHECK_KEY, LINK_CHECK_LENGTH, SESSION_KEY, guess_failed
from perception.web.customer import bp as customer
from perception.web.forms import collect_scores, contact_choice


def _link_problem(status):
    if status == LINK_ANSWERED:
        return render_template("web/answered.html"), 410
    if status == LINK_UNSUBSCRIBED:
        return render_template("web/link_unsubscribed.html"), 410
    if status == LINK_GONE:
        return render_template("web/closed.html"), 410
    return render_template("web/unknown.html"), 404


@customer.get("/<token>")
@limiter.limit("30 per minute", deduct_when=guess_failed)
def open_invitation(token):
    check = open_link(token)
    if check.status != LINK_OK:
        return _link_problem(check.status)
    session[SESSION_KEY] = check.invitation.id
    session[LINK_CHECK_KEY] = check.invitation.token_hash[:LINK_CHECK_LENGTH]
    return redirect(url_for("survey.answer"), code=303)


@customer.route("/answer", methods=["GET", "POST"])
def answer():
    check = invitation_by_id(session_id(session.get(SESSION_KEY)), session.get(LINK_CHECK_KEY))
    if check.status != LINK_OK:
        if check.status == LINK_ANSWERED:
            return render_template("web/answered.html"), 200
        return _link_problem(check.status)
    invitation = check.invitation
    survey = invitation.survey
    form = cached_customer_form_class(survey.items, survey.ask_nps)()
    if form.validate_on_submit():
        try:
            _, created = record_customer_response(
                invitation,
                collect_scores(form, survey.items, "item"),
                comment=form.comment.data,
                nps=form.nps.data if survey.ask_nps else None,
                channel=invitation.channel,
                contact=contact_choice(form),
            )
        except LinkReplaced:  # erased since the page checked the link: as after the erasure
            return _link_problem(LINK_UNKNOWN)
        if not created:
            return render_template("web/answered.html"), 200
        return redirect(url_for("survey.thanks"), code=303)
    return render_template(
        "responses/form.html", form=form, survey=survey, invitation=invitation,
        minutes=customer_minutes(len(survey.items), survey.ask_nps),
    ), (400 if form.errors else 200)


@customer.get("/thanks")
def thanks():
    return render_template("responses/thanks.html")
