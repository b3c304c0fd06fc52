"""Model fields every app shares."""

from django.db import models


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """An amount in yuan, exact to the fen (DECIMAL(16, 2))."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


class AppendOnly:
    """A model mixin for rows that are only ever added (the ledger, the credit entries): saving
    an existing row or deleting one raises, so a mistake is put right by a new row. The database
    refuses UPDATE and DELETE too (triggers in the migrations), for SQL that bypasses the model.
    """

    append_only_message = "Rows of this table are append-only."

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(self.append_only_message)
