"""Admins may look at a staff member's mirror only when the ADMIN_SEES_MIRRORS setting allows it.
Leaders never see an individual's mirror."""

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..security import roles_required
from ..staff.mirror import mirror_page
from ..surveys import survey_by_slug_or_404
from .views import bp


@bp.get("/surveys/<slug>/mirror")
@roles_required("admin")
def staff_mirror(slug):
    if not current_app.config["ADMIN_SEES_MIRRORS"]:
        abort(403)
    survey = survey_by_slug_or_404(slug)
    staff = list(db.session.execute(
        select(User).where(User.role == "staff").order_by(User.name, User.email)).scalars())
    chosen = request.args.get("staff", "")
    person = next((user for user in staff if str(user.id) == chosen), None)
    if person is None:
        status = 404 if chosen else 200
        return render_template("staff/mirror_choose.html", survey=survey, staff=staff, chosen=chosen), status
    current_app.logger.info("admin %s viewed the mirror of staff %s in %s", current_user.id, person.id, survey.slug)
    return mirror_page(survey, person, viewer_is_subject=False)
