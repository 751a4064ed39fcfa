"""Login, logout and the user loader."""

from . import tokens  # noqa: F401  (adds the API token pages to bp)
from .views import bp

__all__ = ["bp"]
