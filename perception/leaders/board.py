"""The support-vs-erode board and comment tagging for leaders (every team)."""

from ..board_pages import board_page, comments_page
from ..security import roles_required
from ..surveys import survey_by_slug_or_404
from .views import LEADERS, bp

ENDPOINTS = {"board": "leaders.board", "comments": "leaders.board_comments", "home": "leaders.index"}


@bp.get("/surveys/<slug>/board")
@roles_required(*LEADERS)
def board(slug):
    return board_page(survey_by_slug_or_404(slug), ENDPOINTS)


@bp.route("/surveys/<slug>/board/comments", methods=["GET", "POST"])
@roles_required(*LEADERS)
def board_comments(slug):
    return comments_page(survey_by_slug_or_404(slug), ENDPOINTS)
