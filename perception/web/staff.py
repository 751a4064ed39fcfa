"""The staff audience blueprint, `/staff/...` (each route checks the role)."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
