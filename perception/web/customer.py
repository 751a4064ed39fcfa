"""The customers' audience blueprint, `/s/...`, and its policy: no Referer leaves a customer page
and nothing is cached (no-referrer, no-store). The customer's signed session remembers the
invitation under SESSION_KEY, never the token."""

from flask import Blueprint

bp = Blueprint("survey", __name__, url_prefix="/s")
SESSION_KEY = "survey_invitation"


def guess_failed(response):
    return response.status_code == 404


@bp.after_request
def no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
