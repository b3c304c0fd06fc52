from django.db import models
from django.utils.translation import gettext_lazy as _


class NumberSequence(models.Model):
    """The last number handed out in a scope ("case:2026", "notice:310101:2026").

    Numbers are taken under a row lock inside the caller's transaction, so a rollback gives the
    number back: numbers are unique and without gaps, even with concurrent issuers.
    """

    scope = models.CharField(_("scope"), max_length=64, unique=True)
    last_value = models.BigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.scope}: {self.last_value}"
