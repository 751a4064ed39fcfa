"""The support-vs-erode pages shared by leaders (every team; a team's leader their own team only, see
perception.accounts.scope) and staff (their own team only): the board, and the list of comments to
tag. Rules live in perception.board.service and perception.board.queries."""

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from perception.accounts.queries import all_teams
from perception.accounts.scope import own_team, sees_survey
from perception.board import queries as board_queries
from perception.board.service import TagError, remove_tag, save_tag
from perception.surveys.queries import survey_by_slug_or_404
from perception.web.forms import TeamFilters
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required
from perception.web.staff import bp as staff

REFERENCE_RE = re.compile(r"[0-9a-f]{64}")  # a comment's reference (board.queries.CommentRow), never its id
EFFECT_CHOICES = [SelectChoice("erodes", "Erodes the relationship"),
                  SelectChoice("supports", "Supports the relationship")]


class BoardFilters(TeamFilters):
    """The board's filters: team (within the viewer's scope), a month with enough answers, the page."""

    QUERY_ARGS = ("team", "month", "untagged", "page")

    month = SelectField("Month", validate_choice=False)
    untagged = BooleanField("Only comments nobody has tagged yet", default=True)
    page = IntegerField("Page", default=1, validators=[NumberRange(min=1, max=100000)], widget=HiddenInput())

    def __init__(self, teams, months, fixed_team=None, **kwargs):
        super().__init__(teams, fixed_team, **kwargs)
        self.months = months
        self.month.choices = [SelectChoice("", "All months")] + [SelectChoice(m, m) for m in months]

    def validate_month(self, field):
        if field.data and field.data not in self.months:
            raise ValidationError("Choose a month from the list: other months have too few responses to show.")



class TagForm(FlaskForm):
    """One comment's tag; rendered with a per-comment prefix so every field id is unique."""

    effect = RadioField("This comment", choices=EFFECT_CHOICES,
                        validators=[InputRequired("Choose whether it supports or erodes the relationship.")])
    dimension = SelectField("Dimension of care it touches", validate_choice=False,
                            validators=[InputRequired("Choose the dimension of care it touches.")])


class RemoveTagForm(FlaskForm):
    comment = HiddenField()
    remove = StringField()


def _scope(survey):
    """(teams the person may see, their fixed team or None). Staff and a team's leader: their own team."""
    if (current_user.role == "staff" and current_user.team is None) or not sees_survey(current_user, survey):
        abort(404)
    team = current_user.team if current_user.role == "staff" else own_team(current_user)
    return ([team], team) if team is not None else (all_teams(), None)


def _filters(survey, min_n):
    teams, fixed = _scope(survey)
    months = board_queries.eligible_months(survey, min_n, fixed.id if fixed else None)
    form = BoardFilters(teams, months, fixed, formdata=request.args)
    if fixed is not None:
        form.team.data = fixed.name
    return form


def board_page(survey, endpoints):
    min_n = current_app.config["MIN_N"]
    form = _filters(survey, min_n)
    result = None
    if form.validate():
        team = form.selected_team()
        result = board_queries.board(survey, min_n, team_id=team.id if team else None, month=form.month.data or None)
    return render_template("board/board.html", survey=survey, form=form, board=result, min_n=min_n,
                           endpoints=endpoints), (200 if result is not None else 400)


def _tag_form(survey, reference, dimensions, suggestion=None, formdata=None):
    form = TagForm(prefix=f"c{reference}", formdata=formdata)
    form.dimension.choices = [SelectChoice("", "Choose…")] + [SelectChoice(k, n) for k, n in dimensions]
    if formdata is None and suggestion is not None:
        form.effect.data = suggestion.effect
        form.dimension.data = suggestion.dimension or ""
    return form


def comments_page(survey, endpoints):
    min_n = current_app.config["MIN_N"]
    filters = _filters(survey, min_n)
    dimensions = board_queries.survey_dimensions(survey)
    errors_for = posted = None
    if request.method == "POST":
        outcome = _handle_post(survey, min_n, filters, dimensions)
        if not isinstance(outcome, tuple):
            return outcome
        errors_for, posted = outcome
    rows, total = [], 0
    if filters.validate():
        team = filters.selected_team()
        rows, total = board_queries.comments_to_tag(
            survey, min_n, team_id=team.id if team else None, month=filters.month.data or None,
            untagged_only=bool(filters.untagged.data) if request.args else True, page=filters.page.data or 1,
            dimension_keys=[key for key, _ in dimensions])
    forms = {row.reference: (posted if row.reference == errors_for else
                             _tag_form(survey, row.reference, dimensions, next(iter(row.suggestions), None)))
             for row in rows}
    return render_template(
        "board/comments.html", survey=survey, filters=filters, rows=rows, total=total, forms=forms,
        remove_form=RemoveTagForm(), page_size=board_queries.PAGE_SIZE, min_n=min_n, endpoints=endpoints,
        dimension_names=dict(dimensions),
    ), (400 if errors_for is not None or filters.errors else 200)


def _handle_post(survey, min_n, filters, dimensions):
    """Save or remove a tag. Returns a redirect, or (comment reference, form with errors) to re-render."""
    _teams, fixed = _scope(survey)
    reference = request.form.get("comment", "")
    if not REFERENCE_RE.fullmatch(reference):
        abort(400)
    response = board_queries.taggable_response(survey, reference, min_n, fixed.id if fixed else None)
    if response is None:
        abort(404)
    # Back to the same list: its filters only, never other query arguments (url_for would take `slug`
    # twice, or `_external`/`_scheme` and build the address from the request's Host header).
    kept = {name: request.args[name] for name in BoardFilters.QUERY_ARGS if name in request.args}
    back = redirect(url_for(request.endpoint, slug=survey.slug, **kept))
    if "remove" in request.form:
        form = RemoveTagForm()
        if not form.validate_on_submit():
            abort(400)
        if remove_tag(response, form.remove.data, user=current_user):
            flash("The tag is removed.")
        return back
    form = _tag_form(survey, reference, dimensions, formdata=request.form)
    if form.validate_on_submit():
        try:
            save_tag(survey, response, current_user, form.effect.data, form.dimension.data)
        except TagError as error:
            form[error.field].errors.append(str(error))
            return reference, form
        flash("Thank you: the tag is saved.")
        return back
    return reference, form


LEADER_ENDPOINTS = {"board": "leaders.board", "comments": "leaders.board_comments", "home": "leaders.index"}


@leaders.get("/surveys/<slug>/board", endpoint="board")
@roles_required(*LEADERS)
def leaders_board(slug):
    return board_page(survey_by_slug_or_404(slug), LEADER_ENDPOINTS)


@leaders.route("/surveys/<slug>/board/comments", methods=["GET", "POST"], endpoint="board_comments")
@roles_required(*LEADERS)
def leaders_board_comments(slug):
    return comments_page(survey_by_slug_or_404(slug), LEADER_ENDPOINTS)


STAFF_ENDPOINTS = {"board": "staff.board", "comments": "staff.board_comments", "home": "staff.index"}


@staff.get("/surveys/<slug>/board", endpoint="board")
@roles_required("staff")
def staff_board(slug):
    return board_page(survey_by_slug_or_404(slug), STAFF_ENDPOINTS)


@staff.route("/surveys/<slug>/board/comments", methods=["GET", "POST"], endpoint="board_comments")
@roles_required("staff")
def staff_board_comments(slug):
    return comments_page(survey_by_slug_or_404(slug), STAFF_ENDPOINTS)
