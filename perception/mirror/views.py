"""The personal mirror pages: a staff member sees their own; an admin may look at one only when the
ADMIN_SEES_MIRRORS setting allows it (and every view is logged). Leaders never see an individual's
mirror."""

from flask import abort, current_app, render_template, request
from flask_login import current_user

from perception.accounts.queries import staff_members
from perception.mirror.queries import own_guesses, staff_mirror, waiting
from perception.surveys.queries import survey_by_slug_or_404, visible_survey_or_404
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required
from perception.web.staff import bp as staff


@leaders.get("/surveys/<slug>/mirror", endpoint="staff_mirror")
@roles_required("admin")
def admin_view_of_a_mirror(slug):
    if not current_app.config["ADMIN_SEES_MIRRORS"]:
        abort(403)
    survey = survey_by_slug_or_404(slug)
    staff = staff_members()
    chosen = request.args.get("staff", "")
    person = next((user for user in staff if str(user.id) == chosen), None)
    if person is None:
        status = 404 if chosen else 200
        return render_template("mirror/choose.html", survey=survey, staff=staff, chosen=chosen), status
    current_app.logger.info("admin %s viewed the mirror of staff %s in %s", current_user.id, person.id, survey.slug)
    return mirror_page(survey, person, viewer_is_subject=False)


def mirror_page(survey, person, viewer_is_subject):
    mirror = staff_mirror(survey, person, current_app.config["MIN_N"], with_own=viewer_is_subject)
    return render_template("mirror/mirror.html", survey=survey, person=person, mirror=mirror,
                           waiting=waiting(survey, person), own_view=viewer_is_subject,
                           guesses=own_guesses(survey, person) if viewer_is_subject else None)


@staff.get("/surveys/<slug>/mirror")
@roles_required("staff")
def mirror(slug):
    survey = visible_survey_or_404(slug, current_user)  # their team's waves, not drafts
    if not survey.covers_team(current_user.team_id):
        abort(404)
    return mirror_page(survey, current_user, viewer_is_subject=True)
