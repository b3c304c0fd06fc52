"""Model fields every app shares."""

from django.db import models


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """An amount in yuan, exact to the fen (DECIMAL(16, 2))."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)
