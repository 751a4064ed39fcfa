"""Pages for a password: "Forgot your password?" (mails a single-use reset link, and answers the same
whether or not the address has an account) and the set-password page of invitation and reset links.

As with customer links, `/set-password/<token>` swaps the token at once for a signed session value
(the link's id) and redirects to `/set-password`, so the token leaks through no Referer, history or
log line (perception.web.logs redacts it too). These pages send no Referer and are never cached."""

import time

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from perception.accounts.forms import ForgotPasswordForm, SetPasswordForm
from perception.accounts.password_service import (
    LINK_OK,
    LINK_UNKNOWN,
    LINK_USED,
    PasswordError,
    link_by_id,
    link_state,
    open_link,
    request_password_reset,
    set_password_with_link,
)
from perception.accounts.recent_password import mark_password_given
from perception.accounts.views import bp
from perception.core.extensions import limiter
from perception.web.customer import guess_failed
from perception.web.security import no_store, pad_to_minimum, typed_address_key

LINK_SESSION_KEY = "account_link"
# Like failed logins (perception.accounts.views): per address, and per address tried from that
# client; here every request counts, since each may queue a mail.
FORGOT_ADDRESS_LIMITS = "10 per minute;50 per hour"
FORGOT_ACCOUNT_ADDRESS_LIMITS = "3 per minute;10 per hour;20 per day"
# Every "Forgot your password?" request that passes the form takes at least this long, measured from
# the start of its handling: an address with an account (rows written, a mail queued) and one without
# then answer in the same time (the service's comparable work alone leaves a gap of milliseconds).
FORGOT_MIN_SECONDS = 0.15
FORGOT_ANSWER = ("If an active account uses this address, we have sent it a link to choose a new password. "
                 "It works once, for 72 hours. No mail? Check the spelling and your spam folder, or ask your "
                 "administrator.")


def _forgot_account_key():
    return typed_address_key("forgot", request.form.get("email"))


def _page(template, status=200, **context):
    response = make_response(render_template(template, **context), status)
    response.headers["Referrer-Policy"] = "no-referrer"
    return no_store(response)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(FORGOT_ADDRESS_LIMITS, methods=["POST"])
@limiter.limit(FORGOT_ACCOUNT_ADDRESS_LIMITS, methods=["POST"], key_func=_forgot_account_key)
def forgot_password():
    started = time.monotonic()
    form = ForgotPasswordForm()
    sent = False
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        sent = True
        pad_to_minimum(started, FORGOT_MIN_SECONDS)
    return _page("accounts/forgot_password.html", 400 if form.errors else 200, form=form, sent=sent,
                 answer=FORGOT_ANSWER)


@bp.get("/set-password/<token>")
@limiter.limit("30 per minute", deduct_when=guess_failed)
def open_password_link(token):
    state, link = open_link(token)
    if state != LINK_OK:
        return _page("accounts/link_problem.html", 404 if state == LINK_UNKNOWN else 410, state=state)
    session[LINK_SESSION_KEY] = link.id
    return redirect(url_for("auth.set_password"), code=303)


@bp.route("/set-password", methods=["GET", "POST"])
def set_password():
    link = link_by_id(session.get(LINK_SESSION_KEY))
    state = link_state(link)
    if state != LINK_OK:
        return _page("accounts/link_problem.html", 404 if state == LINK_UNKNOWN else 410, state=state)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = set_password_with_link(link, form.password.data)
        except PasswordError as error:
            form.password.errors.append(str(error))
        except ValueError:
            # The link was used (a second submit of the same form) or expired since the check above.
            state = link_state(link_by_id(link.id))
            return _page("accounts/link_problem.html", 410, state=LINK_USED if state == LINK_OK else state)
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()  # a fresh session on login: no fixation, and the link is gone from it
            login_user(user)
            mark_password_given()
            flash("Your password is set. You are logged in.")
            return redirect(url_for("public.my_home"))
    return _page("accounts/set_password.html", 400 if form.errors else 200, form=form, link=link)
