"""Employees' records: which paid person-months the core contribution system has been told of
(docs/formats.md, "Paid person-months"), and who looked at a person's months and why.

A month is (original unit, insured person, period): every line of that unit, person and period,
the successors' shares of a split included. Its status follows from its lines' ledger; each batch
of the feed reports the months whose status changed since the one before.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.fields import money_field
from replenish.models.reasoned import Reasoned


class MonthStatus(models.TextChoices):
    OWED = "owed", _("owed")
    PAID = "paid", _("paid")
    WRITTEN_OFF = "written_off", _("written off")
    REOPENED = "reopened", _("reopened")


class PaidMonthBatch(models.Model):
    """One batch of the feed, numbered 1, 2, … without gaps; its rows are kept so that it can be
    sent again byte for byte."""

    number = models.PositiveIntegerField(_("batch"), unique=True)
    made_at = models.DateTimeField(_("made at"), default=timezone.now)
    # Entries recorded from this time on may be ones the batch did not see: the start of the
    # oldest transaction open when it read the ledger (records.paid_months_batch_make).
    scanned_from = models.DateTimeField(_("ledger read from"), null=True, blank=True)
    made_by = models.CharField(_("made by"), max_length=150)
    rows = models.PositiveIntegerField(_("months"))

    class Meta:
        verbose_name = _("paid person-month batch")
        verbose_name_plural = _("paid person-month batches")
        ordering = ["-number"]

    def __str__(self) -> str:
        return str(self.number)


class ReadingMark(models.Model):
    """Where a reader of what changed reads the ledger and the audit trail from next (one row a
    reader): the start of the oldest transaction open when it last read them, by the database's
    clock. An entry it did not see then was written by one of those transactions, so not before.
    A reading that finds nothing to do moves it on too, so a day with nothing new reads only that
    day's entries (`replenish.services.changes`)."""

    class Reader(models.TextChoices):
        PAID_MONTHS = "paid_months", _("paid person-month feed")
        AGREEMENT_FULFILMENT = "agreement_fulfilment", _("agreements' fulfilment check")

    reader = models.CharField(_("reader"), max_length=32, primary_key=True, choices=Reader.choices)
    read_from = models.DateTimeField(_("read from"), null=True)  # None: never read
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("reading mark")
        verbose_name_plural = _("reading marks")

    def __str__(self) -> str:
        return f"{self.get_reader_display()}: {self.read_from}"


class PaidMonthRow(models.Model):
    """One month of a batch, exactly as written to the file."""

    batch = models.ForeignKey(
        PaidMonthBatch, on_delete=models.PROTECT, related_name="months", verbose_name=_("batch")
    )
    unit_uscc = models.CharField(_("unit"), max_length=18)
    id_number = models.CharField(_("citizen ID number"), max_length=18)
    period = models.CharField(_("period"), max_length=7)
    employer_amount = money_field(_("employer portion"))
    employee_amount = money_field(_("employee portion"))
    status = models.CharField(_("status"), max_length=16, choices=MonthStatus.choices)
    status_on = models.DateField(_("status since"))

    class Meta:
        verbose_name = _("reported month")
        verbose_name_plural = _("reported months")
        ordering = ["batch", "unit_uscc", "id_number", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "unit_uscc", "id_number", "period"], name="paid_month_row_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_uscc} {self.period} {self.get_status_display()}"


class ReportedMonth(models.Model):
    """The status last reported for a month (a month never reported counts as owed)."""

    unit_uscc = models.CharField(_("unit"), max_length=18)
    id_number = models.CharField(_("citizen ID number"), max_length=18)
    period = models.CharField(_("period"), max_length=7)
    status = models.CharField(_("status"), max_length=16, choices=MonthStatus.choices)
    batch = models.ForeignKey(
        PaidMonthBatch, on_delete=models.PROTECT, related_name="+", verbose_name=_("batch")
    )

    class Meta:
        verbose_name = _("last reported status")
        verbose_name_plural = _("last reported statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["unit_uscc", "id_number", "period"], name="reported_month_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_uscc} {self.period} {self.get_status_display()}"


class AccessChannel(models.TextChoices):
    BACK_OFFICE = "back_office", _("back office")
    FRONT_END = "front_end", _("city-service front end")


class PersonRecordAccess(Reasoned):
    """Who opened a person's months, when and why (Personal Information Protection Law): every
    opening of a person's page and every call of the person inquiry API. Append-only."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    channel = models.CharField(_("access channel"), max_length=16, choices=AccessChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150)
    person = models.ForeignKey(
        "units.InsuredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("insured person"),
    )
    masked_id_number = models.CharField(_("citizen ID number asked for"), max_length=18)
    reason = models.TextField(_("why asked"))

    class Meta:
        verbose_name = _("access to a person's records")
        verbose_name_plural = _("accesses to persons' records")
        ordering = ["-at", "-id"]
        permissions = [
            ("view_person_records", _("Can open a person's months")),
            ("inquire_person_records", _("Can answer a person's inquiry (city-service front end)")),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.masked_id_number}"
