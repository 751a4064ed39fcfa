"""Leaders: rate the business, see the gap, act on it."""

from . import dashboard, followups, surveys_admin  # noqa: F401  (their routes register on bp)
from .views import bp

__all__ = ["bp"]

from . import board, drivers, exports, invitations, mirrors, open_links  # noqa: E402, F401  (their routes register on bp)
