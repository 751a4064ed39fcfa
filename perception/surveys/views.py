"""Survey management for leaders and admins: create a wave from the item bank, edit it while
that is allowed, open it, close it. The rules live in `service`; these views parse and render.

Team scope (perception.accounts.scope): a team's leader sees the waves that cover their team and
makes, edits, opens and closes only waves scoped to their team; a wave of several teams or of the
whole business is theirs to read (for their team), not to change: 403."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from perception.accounts.queries import all_teams
from perception.accounts.scope import manages_survey, manages_teams, own_team, scoped_teams
from perception.surveys.forms import ActionForm, WaveForm
from perception.surveys.queries import (
    customer_minutes,
    responses_in_scope,
    visible_survey_or_404,
    wave_items,
    wave_wordings,
)
from perception.surveys.service import (
    WaveError,
    WaveSpec,
    can_edit,
    close_wave,
    create_wave,
    item_bank,
    open_wave,
    response_count,
    update_wave,
)
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required


def _spec(form):
    opens_at, closes_at = form.dates()
    return WaveSpec(
        title=form.title.data or "", slug=form.slug.data or "", item_ids=frozenset(form.chosen_item_ids()),
        opens_at=opens_at, closes_at=closes_at, team_ids=frozenset(form.teams.data or ()), ask_nps=form.ask_nps.data,
    )


def _out_of_scope(form, spec):
    """A team's leader makes waves for their own team only: the refusal next to the teams, or None."""
    if manages_teams(current_user, spec.team_ids):
        return None
    team = own_team(current_user)
    form.teams.errors = [*form.teams.errors, f"You lead {team.name}: tick it. A wave of other teams or of every "
                                            "team is made by an admin or a leader without a team."]
    return form.teams.errors[-1]


def _team_choices(survey):
    """The teams the edit form offers: the active ones, and the archived ones the wave covers already,
    so that saving the form unchanged keeps them (unticking one takes it out; none is added)."""
    archived = sorted((team for team in survey.teams if team.archived), key=lambda team: (team.name, team.id))
    return scoped_teams(current_user, [*all_teams(), *archived])


def _managed_or_403(slug):
    survey = visible_survey_or_404(slug, current_user)
    if not manages_survey(current_user, survey):
        abort(403)  # the wave covers more than the leader's team: theirs to read, not to change
    return survey


def _refused(form, error):
    """Show a refusal next to its field; returns the message when it concerns the whole wave."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
        return None
    return str(error)


def _render_form(form, survey=None, items_locked=False, refusal=None):
    status = 400 if form.errors or refusal else 200
    asked = wave_wordings(survey.id) if items_locked else {}  # the wording the answered wave asks
    return render_template(
        "surveys/form.html", form=form, survey=survey, items_locked=items_locked, refusal=refusal, asked=asked
    ), status


@leaders.route("/surveys/new", methods=["GET", "POST"])
@roles_required(*LEADERS)
def new_survey():
    bank = item_bank()
    form = WaveForm(bank, scoped_teams(current_user, all_teams()))
    refusal = None
    if not form.is_submitted():
        form.ask_nps.data = True
        form.items.data = [item.id for _, items in bank for item in items]
        form.teams.data = [team.id for team in [own_team(current_user)] if team is not None]
    elif form.validate() and _out_of_scope(form, _spec(form)) is None:
        try:
            survey = create_wave(_spec(form), actor=current_user)
        except WaveError as error:
            refusal = _refused(form, error)
        else:
            flash(f"Wave “{survey.title}” created as a draft. Open it when you are ready to collect answers.")
            return redirect(url_for("leaders.manage_survey", slug=survey.slug))
    return _render_form(form, refusal=refusal)


@leaders.route("/surveys/<slug>/edit", methods=["GET", "POST"])
@roles_required(*LEADERS)
def edit_survey(slug):
    survey = _managed_or_403(slug)
    responses = response_count(survey)
    if not can_edit(survey, responses):
        flash("This wave has responses, so it can no longer be edited.")
        return redirect(url_for("leaders.manage_survey", slug=survey.slug))
    form = WaveForm(item_bank(keep={item.id for item in survey.items}), _team_choices(survey))
    refusal = None
    if not form.is_submitted():
        form.fill_from(survey)
    elif form.validate() and _out_of_scope(form, _spec(form)) is None:
        try:
            update_wave(survey, _spec(form), actor=current_user)
        except WaveError as error:
            refusal = _refused(form, error)
        else:
            flash("Your changes are saved.")
            return redirect(url_for("leaders.manage_survey", slug=survey.slug))
    return _render_form(form, survey, items_locked=bool(responses), refusal=refusal)


@leaders.get("/surveys/<slug>")
@roles_required(*LEADERS)
def manage_survey(slug):
    survey = visible_survey_or_404(slug, current_user)
    responses = response_count(survey)
    items = wave_items(survey)
    return render_template(
        "surveys/manage.html", survey=survey, responses=responses, editable=can_edit(survey, responses),
        responses_seen=responses_in_scope(survey, current_user),
        items=items, form=ActionForm(), manageable=manages_survey(current_user, survey),
        own_team=own_team(current_user), minutes=customer_minutes(len(items), survey.ask_nps),
    )


def _change(slug, action, done):
    survey = _managed_or_403(slug)
    if ActionForm().validate_on_submit():
        try:
            action(survey, actor=current_user)
        except WaveError as error:
            flash(str(error))
        else:
            flash(done)
    else:
        flash("The form had expired. Please try again.")
    return redirect(url_for("leaders.manage_survey", slug=survey.slug))


@leaders.post("/surveys/<slug>/open")
@roles_required(*LEADERS)
def open_survey(slug):
    return _change(slug, open_wave, "The wave is open: customers with a link, staff and leaders can answer it.")


@leaders.post("/surveys/<slug>/close")
@roles_required(*LEADERS)
def close_survey(slug):
    return _change(slug, close_wave, "The wave is closed: no more answers are accepted. Its figures stay.")
