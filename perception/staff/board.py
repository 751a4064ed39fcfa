"""The support-vs-erode board and comment tagging for staff: their own team's comments only."""

from ..board_pages import board_page, comments_page
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .views import bp

ENDPOINTS = {"board": "staff.board", "comments": "staff.board_comments", "home": "staff.index"}


@bp.get("/surveys/<slug>/board")
@roles_required("staff")
def board(slug):
    return board_page(survey_by_slug_or_404(slug), ENDPOINTS)


@bp.route("/surveys/<slug>/board/comments", methods=["GET", "POST"])
@roles_required("staff")
def board_comments(slug):
    return comments_page(survey_by_slug_or_404(slug), ENDPOINTS)
