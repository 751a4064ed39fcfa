"""Front-line staff: rate yourself and predict your customers."""

from . import triads  # noqa: F401  (its routes register on bp)
from .views import bp

__all__ = ["bp"]

from . import board, mirror  # noqa: E402, F401  (their routes register on bp)
