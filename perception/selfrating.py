"""The self-assessment page shared by staff (with predictions) and leaders."""

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user

from .forms import collect_scores, self_assessment_form_class
from .responses import own_response, save_self_assessment
from .surveys import survey_by_slug_or_404


def _prefill(form, response, items):
    answers = {answer.item_id: answer.score for answer in response.answers}
    predictions = {prediction.item_id: prediction.score for prediction in response.predictions}
    for item in items:
        if item.id in answers:
            form[f"item_{item.key}"].data = answers[item.id]
        if f"predict_{item.key}" in form and item.id in predictions:
            form[f"predict_{item.key}"].data = predictions[item.id]
    form.comment.data = response.comment


def self_assessment_page(slug, template):
    survey = survey_by_slug_or_404(slug)
    if current_user.role == "staff" and not survey.covers_team(current_user.team_id):
        abort(404)
    perspective = current_user.perspective
    response = own_response(survey, current_user)
    accepting = survey.is_accepting()
    form = self_assessment_form_class(survey.items, perspective)()
    if request.method == "POST":
        if not accepting:
            flash("This survey is closed, so your rating can no longer change.")
            return redirect(request.path)
        if form.validate_on_submit():
            _, created = save_self_assessment(
                survey,
                current_user,
                collect_scores(form, survey.items, "item"),
                collect_scores(form, survey.items, "predict"),
                comment=form.comment.data,
            )
            flash("Your rating is saved." if created else "Your changes are saved.")
            return redirect(request.path)
    elif response is not None:
        _prefill(form, response, survey.items)
    return render_template(
        template, survey=survey, form=form, response=response, accepting=accepting, perspective=perspective
    ), (400 if form.errors else 200)
