from flask import Blueprint, render_template
from flask_login import current_user

from ..responses import own_response
from ..security import roles_required
from ..selfrating import self_assessment_page
from ..surveys import surveys_for

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@roles_required("staff")
def index():
    surveys = surveys_for(current_user, statuses=("open", "closed"))
    rows = [(survey, own_response(survey, current_user)) for survey in surveys]
    return render_template("staff/index.html", rows=rows)


@bp.route("/surveys/<slug>", methods=["GET", "POST"])
@roles_required("staff")
def rate(slug):
    return self_assessment_page(slug, "staff/rate.html")
