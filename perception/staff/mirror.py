"""A staff member's personal mirror: private to them (and to admins only if ADMIN_SEES_MIRRORS)."""

from flask import abort, current_app, render_template
from flask_login import current_user

from ..mirror_data import staff_mirror
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .views import bp


def mirror_page(survey, person, viewer_is_subject):
    mirror = staff_mirror(survey, person, current_app.config["MIN_N"])
    return render_template("staff/mirror.html", survey=survey, person=person, mirror=mirror,
                           own_view=viewer_is_subject)


@bp.get("/surveys/<slug>/mirror")
@roles_required("staff")
def mirror(slug):
    survey = survey_by_slug_or_404(slug)
    if not survey.covers_team(current_user.team_id):
        abort(404)
    return mirror_page(survey, current_user, viewer_is_subject=True)
