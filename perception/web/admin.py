"""The admins' audience blueprint, `/admin/...`: the business's set-up (questions, people, teams, the
audit log, webhooks). Every route here is for admins only; the check runs before any view."""

from flask import Blueprint, render_template

from perception.web.security import no_store, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(no_store)  # every page here shows accounts or the record of who did what


@bp.before_request
@roles_required("admin")
def admins_only():
    return None


@bp.get("/")
def index():
    return render_template("web/admin_index.html")
