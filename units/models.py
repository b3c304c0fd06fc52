from django.db import models
from django.utils.translation import gettext_lazy as _

from units.identifiers import (
    mask_id_number,
    validate_id_number,
    validate_region_code,
    validate_uscc,
)


class UnitStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    MERGED = "merged", _("merged")
    SPLIT = "split", _("split")
    BANKRUPT = "bankrupt", _("bankrupt")
    AUCTIONED = "auctioned", _("sold or leased by auction")


class Unit(models.Model):
    """An insured unit (参保单位): an employer identified by its Unified Social Credit Code."""

    uscc = models.CharField(
        _("Unified Social Credit Code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=200)
    region_code = models.CharField(
        _("region code"), max_length=6, validators=[validate_region_code], db_index=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("insured unit")
        verbose_name_plural = _("insured units")
        ordering = ["uscc"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class InsuredPerson(models.Model):
    """An insured employee, stored once whatever the number of units and periods they appear in.

    The citizen ID number is also the social security number (Social Insurance Law Art. 58). It is
    personal data: lists and exports show `masked_id_number`.
    """

    id_number = models.CharField(
        _("citizen ID number"), max_length=18, unique=True, validators=[validate_id_number]
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")

    def __str__(self) -> str:
        return f"{self.name} {self.masked_id_number}"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)
