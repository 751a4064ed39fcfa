"""Login, logout and the user loader."""

from .views import bp

__all__ = ["bp"]
