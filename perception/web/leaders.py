"""The leaders' audience blueprint, `/leaders/...` (leaders and admins; each route checks the role)."""

from flask import Blueprint

bp = Blueprint("leaders", __name__, url_prefix="/leaders")
LEADERS = ("leader", "admin")
