"""`/admin/teams`: the list with counts, create; per team: rename, merge, archive, restore. Admins
only (perception.web.admin checks before any view)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from perception.teams.forms import MergeForm, TeamActionForm, TeamNameForm
from perception.teams.queries import merge_targets, team_by_id, team_row, team_rows
from perception.teams.service import TeamError, archive_team, create_team, merge_teams, rename_team, restore_team
from perception.web.admin import bp as admin


def _list_page(form=None, status=200):
    active, archived = team_rows()
    return render_template("teams/list.html", active=active, archived=archived,
                           form=form or TeamNameForm(formdata=None)), status


@admin.get("/teams", endpoint="teams")
def teams_view():
    return _list_page()


@admin.post("/teams", endpoint="teams_create")
def create_team_view():
    form = TeamNameForm()
    if form.validate_on_submit():
        try:
            team = create_team(form.name.data, actor=current_user)
        except TeamError as error:
            form.name.errors.append(str(error))
        else:
            flash(f"Team {team.name} created.")
            return redirect(url_for("admin.teams"))
    return _list_page(form, 400)


def _team_or_404(team_id):
    team = team_by_id(team_id)
    if team is None:
        abort(404)
    return team


def _team_page(team, rename=None, merge=None, status=200):
    if rename is None:
        rename = TeamNameForm(formdata=None)
        rename.name.data = team.name
    return render_template(
        "teams/team.html", row=team_row(team), rename=rename,
        merge=merge or MergeForm(merge_targets(team), formdata=None), action=TeamActionForm(formdata=None),
    ), status


@admin.get("/teams/<int:team_id>", endpoint="team")
def team_view(team_id):
    return _team_page(_team_or_404(team_id))


@admin.post("/teams/<int:team_id>/rename", endpoint="team_rename")
def rename_team_view(team_id):
    team = _team_or_404(team_id)
    form = TeamNameForm()
    if form.validate_on_submit():
        old = team.name
        try:
            rename_team(team, form.name.data, actor=current_user)
        except TeamError as error:
            form.name.errors.append(str(error))
        else:
            flash(f"{old} is now called {team.name}.")
            return redirect(url_for("admin.team", team_id=team.id))
    return _team_page(team, rename=form, status=400)


@admin.post("/teams/<int:team_id>/merge", endpoint="team_merge")
def merge_team_view(team_id):
    team = _team_or_404(team_id)
    form = MergeForm(merge_targets(team))
    if form.validate_on_submit():
        try:
            result = merge_teams(team, team_by_id(form.into.data), actor=current_user)
        except TeamError as error:
            form.into.errors.append(str(error))
        else:
            moved = ", ".join(f"{count} {label}" for label, count in result.moved.items() if count)
            flash(f"{result.source} is merged into {result.target}" + (f": moved {moved}." if moved else "."))
            return redirect(url_for("admin.team", team_id=form.into.data))
    return _team_page(team, merge=form, status=400)


def _switch(team_id, change, done):
    team = _team_or_404(team_id)
    if TeamActionForm().validate_on_submit():
        try:
            change(team, actor=current_user)
        except TeamError as error:
            flash(str(error))
        else:
            flash(done.format(team.name))
    else:
        flash("The form had expired. Please send it again.")
    return redirect(url_for("admin.team", team_id=team.id))


@admin.post("/teams/<int:team_id>/archive", endpoint="team_archive")
def archive_team_view(team_id):
    return _switch(team_id, archive_team, "{} is archived: it is offered in no picker or filter, and its history "
                                          "stays in the reports.")


@admin.post("/teams/<int:team_id>/restore", endpoint="team_restore")
def restore_team_view(team_id):
    return _switch(team_id, restore_team, "{} is restored.")
