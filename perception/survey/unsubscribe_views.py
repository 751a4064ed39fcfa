"""Unsubscribing from survey mail, without logging in.

The link in every mail (and its List-Unsubscribe header) carries a signed invitation id. GET
shows a confirmation page; POST unsubscribes. The POST is exempt from CSRF on purpose: mail
programs send the RFC 8058 one-click POST ("List-Unsubscribe=One-Click") with no form token,
and the signed value in the URL is itself the proof that the request comes from the mail."""

from flask import render_template, request

from ..extensions import csrf, limiter
from ..invitations import invitation_for_unsubscribe, unsubscribe
from .views import _guess_failed, bp


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit("30 per minute", deduct_when=_guess_failed)
def unsubscribe_page(token):
    invitation = invitation_for_unsubscribe(token)
    if invitation is None:
        return render_template("survey/unknown.html"), 404
    if request.method == "POST":
        unsubscribe(invitation)
        return render_template("survey/unsubscribed.html")
    return render_template("survey/unsubscribe.html", already=invitation.unsubscribed_at is not None)
