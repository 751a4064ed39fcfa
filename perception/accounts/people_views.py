"""The admins' people pages, `/admin/people` (perception.web.admin: admins only, never cached): the
accounts with search and filters, inviting by email, one person's page to change role and team,
deactivate or re-activate, and send a new set-password link."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from perception.accounts.people_forms import NO_TEAM, EditPersonForm, InviteForm, PeopleFilterForm, PersonActionForm
from perception.accounts.people_queries import newest_link, people, person, team_by_id
from perception.accounts.people_service import (
    PeopleError,
    activate_user,
    deactivate_user,
    invite_user,
    resend_invitation,
    send_password_reset,
    update_user,
)
from perception.accounts.queries import all_teams
from perception.accounts.recent_password import recent_password_required
from perception.web.admin import bp as admin


def _team_filter(value):
    if value == NO_TEAM:
        return 0
    return int(value) if value and value.isdigit() else None


@admin.get("/people")
def people_list():
    form = PeopleFilterForm(request.args)
    form.set_teams(all_teams())
    valid = form.validate()
    filters = {"search": form.q.data or "", "role": form.role.data or None,
               "team_id": _team_filter(form.team.data), "status": form.status.data or None} if valid else {}
    persons, total = people(**filters)
    return render_template("accounts/people.html", form=form, persons=persons, total=total,
                           filtered=any(filters.values())), 200 if valid else 400


def _chosen_team(form):
    team = team_by_id(form.team.data)
    if form.team.data and team is None:
        raise PeopleError("Please choose a team from the list.", "team")
    return team


@admin.route("/people/invite", methods=["GET", "POST"])
@recent_password_required(methods=("GET", "POST"))
def invite_person():
    form = InviteForm()
    form.set_teams(all_teams())
    if form.validate_on_submit():
        try:
            user = invite_user(form.email.data, form.role.data, _chosen_team(form), actor=current_user,
                               name=form.name.data)
        except PeopleError as error:
            form[error.field or "email"].errors.append(str(error))
        else:
            flash(f"{user.email} is invited: the mail with their set-password link (valid 72 hours) is queued "
                  "and goes out with the next mail run.")
            return redirect(url_for("admin.person_page", user_id=user.id))
    return render_template("accounts/invite.html", form=form), 400 if form.errors else 200


@admin.route("/people/<int:user_id>", methods=["GET", "POST"])
@recent_password_required()
def person_page(user_id):
    shown = person(user_id)
    if shown is None:
        abort(404)
    user = shown.user
    form = EditPersonForm()
    form.set_teams(all_teams())
    if request.method == "GET":
        form.role.data, form.team.data = user.role, str(user.team_id or "")
    error = None
    if form.validate_on_submit():
        try:
            update_user(user, form.role.data, _chosen_team(form), actor=current_user)
        except PeopleError as problem:
            if problem.field in ("role", "team"):
                form[problem.field].errors.append(str(problem))
            else:
                error = str(problem)
        else:
            flash("Role and team are saved.")
            return redirect(url_for("admin.person_page", user_id=user.id))
    link, link_works = newest_link(user)
    return render_template("accounts/person.html", person=shown, user=user, form=form, error=error, link=link,
                           link_works=link_works, action_form=PersonActionForm(),
                           is_self=user.id == current_user.id), 400 if (form.errors or error) else 200


def _person_url(user_id):
    return url_for("admin.person_page", user_id=user_id)


def _act(user_id, action, done):
    shown = person(user_id)
    if shown is None or not PersonActionForm().validate_on_submit():
        flash("That did not work: the form had expired or the person is gone. Please try again.")
        return redirect(url_for("admin.people_list"))
    try:
        changed = action(shown.user, actor=current_user)
    except PeopleError as error:
        flash(str(error))
    else:
        if changed is not False:
            flash(done.format(email=shown.user.email))
    return redirect(url_for("admin.person_page", user_id=user_id))


@admin.post("/people/<int:user_id>/deactivate")
def deactivate_person(user_id):
    return _act(user_id, deactivate_user, "{email} is deactivated: their sessions stopped working and their API tokens "
                                         "are revoked (if the account is activated again, new tokens must be made).")


@admin.post("/people/<int:user_id>/activate")
@recent_password_required(back=_person_url)
def activate_person(user_id):
    return _act(user_id, activate_user, "{email} is active again.")


@admin.post("/people/<int:user_id>/invite-again")
def reinvite_person(user_id):
    return _act(user_id, resend_invitation, "A new invitation to {email} is queued; the old link no longer works.")


@admin.post("/people/<int:user_id>/reset-link")
def reset_link_person(user_id):
    return _act(user_id, send_password_reset, "A password-reset link to {email} is queued.")
