"""Steps that outlive the session ask for the password again ("sudo mode"): inviting a person, changing
someone's role or team, activating an account, adding a webhook endpoint. Whoever holds a session for a
moment (a laptop left open, a copied cookie) could otherwise give themselves an admin account or a feed
of every follow-up, which would outlast the logout that ends the session (an attacker's read). A
password given at the login, on a set-password link or on the confirm page counts for
RECENT_PASSWORD_MINUTES; a session restored from a remember-me cookie has given none."""

import time
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user

CONFIRMED_AT_KEY = "password_at"
CONFIRM_MESSAGE = "This step needs your password again: please confirm it."


def mark_password_given():
    """Call when the logged-in user has just typed their password (after any session.clear). The mark
    names the account and its session version: a bare time stayed in a session whose account had stopped
    loading, and counted for an admin's remember-me cookie put into that browser afterwards (a review)."""
    session[CONFIRMED_AT_KEY] = [_account(), int(time.time())]


def _account():
    return f"{current_user.id}:{current_user.session_version or 0}"


def forget_password_given():
    session.pop(CONFIRMED_AT_KEY, None)


def password_is_recent():
    mark = session.get(CONFIRMED_AT_KEY)
    if not (isinstance(mark, list) and len(mark) == 2 and isinstance(mark[1], int)):
        return False
    account, given = mark
    return (current_user.is_authenticated and account == _account()
            and 0 <= time.time() - given <= 60 * current_app.config["RECENT_PASSWORD_MINUTES"])


def recent_password_required(methods=("POST",), back=None):
    """Decorate a view: a request of `methods` without a recent password goes to the confirm page, which
    comes back to `back(**view_args)` (default: this page) once the password is given. The step itself
    is not done: its form is filled in again, as after any expired form."""

    def decorate(view):
        @wraps(view)
        def checked(**view_args):
            if request.method in methods and not password_is_recent():
                flash(CONFIRM_MESSAGE)
                return redirect(url_for("auth.confirm_password_page", next=back(**view_args) if back else request.path),
                                code=303)
            return view(**view_args)

        return checked

    return decorate
