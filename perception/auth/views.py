from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from ..extensions import db, limiter, login_manager
from ..models import User
from ..users import find_user_by_email

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id):
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Please enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired("Please enter your password."), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class LogoutForm(FlaskForm):
    pass


def _failed(response):
    return response.status_code != 302


def _login_account_key():
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _safe_next(target):
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], deduct_when=_failed)
@limiter.limit("10 per 5 minutes", methods=["POST"], key_func=_login_account_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.my_home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is not None and user.active and user.check_password(form.password.data):
            session.clear()  # a fresh session on login: no fixation
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("public.my_home"))
        error = "Wrong email or password."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("You are logged out.")
    return redirect(url_for("public.home"))
