"""The customers' audience blueprint, `/s/...`, and its policy: no Referer leaves a customer page
and nothing is cached (no-referrer, no-store). The customer's signed session remembers the
invitation under SESSION_KEY, never the token."""

from flask import Blueprint

from perception.web.security import no_store

bp = Blueprint("survey", __name__, url_prefix="/s")
SESSION_KEY = "survey_invitation"
# Beside it, the start of the hash of the link the session was opened with: a link replaced since (an
# erasure gives every link of the customer a new hash) no longer answers a form opened before (a review).
LINK_CHECK_KEY = "survey_link"
LINK_CHECK_LENGTH = 16


def guess_failed(response):
    """For the link-guessing limits (`deduct_when`): only an unknown link counts, so nobody can lock
    a real customer out by guessing."""
    return response.status_code == 404


@bp.after_request
def no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    return no_store(response)
