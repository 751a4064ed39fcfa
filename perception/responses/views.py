"""The staff and leaders' home pages and the self-assessment page they share: staff rate themselves
and predict their customers, leaders rate the business."""

from flask import flash, redirect, render_template, request
from flask_login import current_user

from perception.responses.forms import self_assessment_form_class
from perception.responses.queries import own_response, own_responses, rating_publication
from perception.responses.service import RatingFinal, save_self_assessment
from perception.surveys.queries import survey_overview, surveys_for, visible_survey_or_404, wave_items
from perception.web.forms import collect_scores
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required
from perception.web.staff import bp as staff


@leaders.get("/", endpoint="index")
@roles_required(*LEADERS)
def leaders_index():
    surveys = surveys_for(current_user, statuses=("draft", "open", "closed"))
    own = own_responses(surveys, current_user)
    rows = [(survey, own.get(survey.id)) for survey in surveys]
    return render_template("responses/leaders_home.html", rows=rows, overview=survey_overview(surveys, current_user))


@leaders.route("/surveys/<slug>/rate", methods=["GET", "POST"], endpoint="rate")
@roles_required(*LEADERS)
def leaders_rate(slug):
    return self_assessment_page(slug, "responses/leaders_rate.html")


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
    survey = visible_survey_or_404(slug, current_user)  # staff and a team's leaders: their team's waves
    perspective = current_user.perspective
    response = own_response(survey, current_user)
    accepting = survey.is_accepting()
    items = wave_items(survey)  # in the wording this wave asks
    form = self_assessment_form_class(items, perspective)()
    if request.method == "POST":
        if not accepting:
            flash("This survey is closed, so your rating can no longer change.")
            return redirect(request.path)
        if form.validate_on_submit():
            try:
                _, created = save_self_assessment(
                    survey,
                    current_user,
                    collect_scores(form, items, "item"),
                    collect_scores(form, items, "predict"),
                    comment=form.comment.data,
                )
            except RatingFinal as refused:
                flash(str(refused))
                return redirect(request.path)
            flash("Your rating is saved." if created else "Your changes are saved.")
            return redirect(request.path)
    elif response is not None:
        _prefill(form, response, items)
    return render_template(
        template, survey=survey, items=items, form=form, response=response, accepting=accepting,
        perspective=perspective,
        publication=rating_publication(survey, current_user, response),
    ), (400 if form.errors else 200)


@staff.get("/", endpoint="index")
@roles_required("staff")
def staff_index():
    surveys = surveys_for(current_user, statuses=("open", "closed"))
    rows = [(survey, own_response(survey, current_user)) for survey in surveys]
    return render_template("responses/staff_home.html", rows=rows)


@staff.route("/surveys/<slug>", methods=["GET", "POST"], endpoint="rate")
@roles_required("staff")
def staff_rate(slug):
    return self_assessment_page(slug, "responses/staff_rate.html")
