"""The home page and app-wide static assets."""

from .views import bp

__all__ = ["bp"]
