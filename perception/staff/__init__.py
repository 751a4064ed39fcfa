"""Front-line staff: rate yourself and predict your customers."""

from .views import bp

__all__ = ["bp"]
