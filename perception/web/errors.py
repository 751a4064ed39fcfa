"""Friendly error pages: nothing user-reachable shows a stack trace."""

import traceback

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from perception.core.extensions import db

# Translated on customer pages (perception/web/i18n.py); English everywhere else.
MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back, check the form and try again.")),
    403: (_l("This page is not for your account"), _l("If you think you should see it, ask an administrator.")),
    404: (_l("We could not find that page"), _l("Check the address, or start again from the home page.")),
    405: (_l("That action is not possible here"), _l("Please go back and use the buttons on the page.")),
    413: (
        _l("That was more than we can accept"),
        _l("Your message was too long. Please go back, shorten your comment and send it again."),
    ),
    429: (_l("Too many attempts"), _l("Please wait a while and try again: too many attempts came from here.")),
    500: (_l("Something went wrong on our side"), _l("Your request was not completed. Please try again in a moment.")),
    503: (_l("We are briefly unavailable"), _l("Nothing was saved. Please try again in a moment.")),
}


def _wants_json():
    return request.path.startswith("/api/")


def render_error(status, title=None, message=None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    title, message = str(title or default_title), str(message or default_message)  # lazy -> text
    if _wants_json():
        # The API's documented error shape, also for addresses under /api/ that match no route.
        return jsonify({"error": message, "field": None}), status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("Your form had expired"),
            _l("For your security the form must be sent from this site within one visit. "
               "Please go back, reload the page and send it again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        db.session.rollback()
        app.logger.warning("database unavailable: %s", type(error.orig).__name__)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        # Whatever failed, the session may hold a failed flush (a StatementError is no DBAPIError): the
        # error page must not trip over it.
        db.session.rollback()
        if isinstance(error, DBAPIError):
            # The driver's message may quote the values of a row (PostgreSQL's DETAIL line: an address,
            # a comment): log where it failed and the kind of error, never the message.
            app.logger.error("unhandled database error %s (%s, SQLSTATE %s)\n%s", type(error).__name__,
                             type(error.orig).__name__, getattr(error.orig, "sqlstate", None) or "?",
                             "".join(traceback.format_tb(error.__traceback__)).rstrip())
        else:
            app.logger.exception("unhandled error")
        return render_error(500)
