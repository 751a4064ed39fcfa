"""The customer's path: the personal link, the form, thanks."""

from .views import bp

__all__ = ["bp"]
