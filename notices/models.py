from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from replenish.models.cases import money_field


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("draft")
    ISSUED = "issued", _("issued")
    DELIVERED = "delivered", _("delivered")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    SUPERSEDED = "superseded", _("superseded")


CURRENT_NOTICE_STATES = (NoticeState.ISSUED, NoticeState.DELIVERED, NoticeState.ACKNOWLEDGED)


class Notice(ConcurrentTransitionMixin, models.Model):
    """A social insurance premium replenishment notice (社会保险费补缴通知单).

    Its amounts are a snapshot fixed on the issue date (the late fee to that date, rounded per
    line); the notice is a legal document (Social Insurance Law Art. 86): the snapshot is never
    edited.
    """

    case = models.ForeignKey(
        "replenish.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("case"),
    )
    number = models.CharField(_("notice number"), max_length=32, unique=True)
    region_code = models.CharField(_("region code"), max_length=6)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    state = FSMField(
        _("state"),
        max_length=16,
        choices=NoticeState.choices,
        default=NoticeState.DRAFT,
        protected=True,
        db_index=True,
    )
    issued_on = models.DateField(_("issued on"))
    deadline = models.DateField(_("deadline"))
    principal = money_field(_("principal"))
    late_fee = money_field(_("late fee to the issue date"))
    total = money_field(_("total"))
    snapshot = models.JSONField(_("snapshot"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("replenishment notice")
        verbose_name_plural = _("replenishment notices")
        ordering = ["-issued_on", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["region_code", "year", "sequence"], name="notice_number_per_region_year"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["issued", "delivered", "acknowledged"]),
                name="one_current_notice_per_case",
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="notice_state_deadline")]

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source=NoticeState.DRAFT, target=NoticeState.ISSUED)
    def issue(self) -> None:
        """Fixed and sent: from here on the snapshot is the legal text."""

    @transition(field=state, source=NoticeState.ISSUED, target=NoticeState.DELIVERED)
    def deliver(self) -> None:
        """Delivered to the unit (portal inbox, e-mail, SMS or post)."""

    @transition(field=state, source=NoticeState.DELIVERED, target=NoticeState.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        """The unit confirmed receipt."""

    @transition(
        field=state,
        source=[NoticeState.ISSUED, NoticeState.DELIVERED, NoticeState.ACKNOWLEDGED],
        target=NoticeState.SUPERSEDED,
    )
    def supersede(self) -> None:
        """A new notice replaces this one (reissue after an overdue or a breach)."""
