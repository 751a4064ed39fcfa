"""The leaders' audience blueprint, `/leaders/...` (leaders and admins; each route checks the role)."""

from flask import Blueprint

from perception.web.security import no_store

bp = Blueprint("leaders", __name__, url_prefix="/leaders")
bp.after_request(no_store)  # every page here shows personal data or answers
LEADERS = ("leader", "admin")
