from flask import Blueprint, render_template
from flask_login import current_user

from ..responses import own_responses
from ..security import roles_required
from ..selfrating import self_assessment_page
from ..surveys import surveys_for
from .overview import survey_overview

bp = Blueprint("leaders", __name__, url_prefix="/leaders")

LEADERS = ("leader", "admin")


@bp.get("/")
@roles_required(*LEADERS)
def index():
    surveys = surveys_for(current_user, statuses=("draft", "open", "closed"))
    own = own_responses(surveys, current_user)
    rows = [(survey, own.get(survey.id)) for survey in surveys]
    return render_template("leaders/index.html", rows=rows, overview=survey_overview(surveys))


@bp.route("/surveys/<slug>/rate", methods=["GET", "POST"])
@roles_required(*LEADERS)
def rate(slug):
    return self_assessment_page(slug, "leaders/rate.html")
