"""The public blueprint: the home page, and `/me`, which sends a logged-in user to their own home."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("public", __name__)
HOME_BY_ROLE = {"staff": "staff.index", "leader": "leaders.index", "admin": "leaders.index"}


@bp.get("/")
def home():
    return render_template("web/home.html")


@bp.get("/me")
def my_home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))
