"""The customer's path: the personal link, the form, thanks; open links and unsubscribing."""

from . import open_views, recovery_views, unsubscribe_views  # noqa: F401  (they add routes to bp)
from .views import bp

__all__ = ["bp"]
