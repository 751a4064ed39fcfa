"""Leaders: rate the business, see the gap, act on it."""

from .views import bp

__all__ = ["bp"]
