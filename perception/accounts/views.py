"""Accounts' pages: log in and out (and the user loader), and the personal API tokens page: make one
(shown once), see when each was last used, revoke it. Any role may have tokens; each acts with its
owner's role."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import confirm_login, current_user, login_required, login_user, logout_user, user_loaded_from_cookie

from perception.accounts.forms import ConfirmPasswordForm, LoginForm, LogoutForm, NewTokenForm, RevokeTokenForm
from perception.accounts.login_service import authenticate, confirm_password, end_sessions
from perception.accounts.queries import user_for_session
from perception.accounts.recent_password import forget_password_given, mark_password_given
from perception.accounts.service import TokenError, create_api_token, revoke_api_token, tokens_of
from perception.core.extensions import login_manager
from perception.web.security import client_key, give_back, take, typed_address_key

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.session_protection = "strong"

# Failed logins (only failures count), with back-off: past the first limit a client waits up to a
# minute, past the second up to an hour, past the third up to a day. Per address, and per account
# *and* address, never per account alone: failures from other addresses cannot lock the owner out.
LOGIN_ADDRESS_LIMITS = "20 per minute;100 per hour"
LOGIN_ACCOUNT_ADDRESS_LIMITS = "5 per minute;10 per hour;20 per day"


@login_manager.user_loader
def load_user(session_id):
    return user_for_session(session_id)


@user_loaded_from_cookie.connect
def keep_restored_session(_app, user):
    """A session restored from the remember-me cookie gets this browser's identifier, as a login's does:
    without it, "strong" session protection found none on the next request and ended the session and the
    cookie, so "Keep me logged in" lasted one page (flask-login issues #248 and #685). confirm_login
    stores the identifier; the session stays not fresh, and has typed no password (whatever mark the
    browser's session held before is dropped)."""
    confirm_login()
    session["_fresh"] = False
    forget_password_given()


def _account_address_key(email):
    """The key of the per-account-and-address limit of password tries (the login's and the token page's)."""
    return typed_address_key("login", email)


def _safe_next(target):
    """`target` when it is a path of this site, else None. A control character (a CR or LF) is refused
    too: werkzeug refuses it in a Location header with a 500 (a review)."""
    if not target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.my_home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        # Each try counts before the password is checked (atomically: security.take), and a success
        # is given back, so only failures count; counted after a failed check, a burst of guesses sent
        # at once all got checked (an attacker's read).
        limits = ((LOGIN_ADDRESS_LIMITS, ("login-address", client_key())),
                  (LOGIN_ACCOUNT_ADDRESS_LIMITS, ("login", _account_address_key(request.form.get("email")))))
        if not take(*limits):
            abort(429)
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            give_back()
            session.clear()  # a fresh session on login: no fixation
            login_user(user, remember=form.remember.data)
            mark_password_given()
            return redirect(_safe_next(request.args.get("next")) or url_for("public.my_home"))
        error = "Wrong email or password."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        end_sessions(current_user)  # on every device: copies of this session or remember-me cookie die too
        session.clear()
        logout_user()  # after clearing: it marks the remember-me cookie for deletion in the session
        flash("You are logged out.")
    return redirect(url_for("public.home"))


def _password_checked(field, where):
    """Check the logged-in account's password typed into `field`: 200 when it is theirs (and it counts as
    recent), else 400 or 429 with the message on the field. Tries count with the login's failures of this
    account and address (one count): a page must not give whoever holds a session more guesses than the
    login does."""
    if not take((LOGIN_ACCOUNT_ADDRESS_LIMITS, ("login", _account_address_key(current_user.email)))):
        field.errors.append("Too many wrong passwords: please wait a while and try again.")
        return 429
    if not confirm_password(current_user, field.data, where=where):
        field.errors.append("That is not your password.")
        return 400
    give_back()
    mark_password_given()
    return 200


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_password_page():
    form = ConfirmPasswordForm()
    status = 200
    if form.validate_on_submit():
        status = _password_checked(form.password, where="confirm")
        if status == 200:
            return redirect(_safe_next(request.args.get("next")) or url_for("public.my_home"))
    return render_template("accounts/confirm_password.html", form=form,
                           minutes=current_app.config["RECENT_PASSWORD_MINUTES"]), \
        status if status != 200 else (400 if form.errors else 200)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = NewTokenForm()
    new_token = None
    if not form.is_submitted():
        form.scopes.data = []  # nothing ticked in advance: the maker chooses what the token may do
    status = 200
    if form.validate_on_submit():
        status = _password_checked(form.password, where="api-token")
        if status == 200:
            try:
                _record, new_token = create_api_token(current_user, form.name.data, form.scopes.data)
            except TokenError as error:
                form[error.field].errors.append(str(error))
            else:
                form.name.data, form.scopes.data = "", []
    response = current_app.make_response((render_template(
        "accounts/tokens.html", form=form, tokens=tokens_of(current_user), new_token=new_token,
        revoke_form=RevokeTokenForm(), api_base=current_app.config["BASE_URL"] + "/api/v1",
    ), status if status != 200 else (400 if form.errors else 200)))
    # The new token is on this page once: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if RevokeTokenForm().validate_on_submit() and revoke_api_token(current_user, token_id):
        flash("The token is revoked: calls with it are refused from now on.")
    else:
        flash("That token could not be revoked.")
    return redirect(url_for("auth.api_tokens"))
