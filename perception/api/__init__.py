"""The JSON API under /api/v1 (DESIGN section 3), described by /api/v1/openapi.json.

Authentication: `Authorization: Bearer <personal API token>` (made on /account/tokens). No cookies,
so no CSRF: the blueprint is exempt. Errors are JSON {"error": ..., "field": ...} with a 4xx."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import auth, views  # noqa: E402, F401  (they attach handlers and routes to bp)
