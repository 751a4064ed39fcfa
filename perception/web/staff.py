"""The staff audience blueprint, `/staff/...` (each route checks the role)."""

from flask import Blueprint

from perception.web.security import no_store

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.after_request(no_store)  # every page here shows personal data or answers
