"""Model fields every app shares."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, overload

from django.db import models
from django.db.models.expressions import Combinable
from django_stubs_ext import StrOrPromise


# A nullable amount (`null=True`) reads as `Decimal | None` and may be set to None.
@overload
def money_field(
    verbose_name: StrOrPromise, *, null: Literal[True], **kwargs: Any
) -> "models.DecimalField[Decimal | int | str | Combinable | None, Decimal | None]": ...
@overload
def money_field(
    verbose_name: StrOrPromise, *, null: Literal[False] = ..., **kwargs: Any
) -> "models.DecimalField[Decimal | int | str | Combinable, Decimal]": ...
def money_field(verbose_name: StrOrPromise, **kwargs: Any) -> "models.DecimalField[Any, Any]":
    """An amount in yuan, exact to the fen (DECIMAL(16, 2))."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


# The mixin is a Model to the type checker (it calls Model.save), a plain class at run time.
if TYPE_CHECKING:
    _Model = models.Model
else:
    _Model = object


class AppendOnly(_Model):
    """A model mixin for rows that are only ever added (the ledger, the credit entries): saving
    an existing row or deleting one raises, so a mistake is put right by a new row. The database
    refuses UPDATE and DELETE too (triggers in the migrations), for SQL that bypasses the model.
    """

    append_only_message = "Rows of this table are append-only."

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError(self.append_only_message)
