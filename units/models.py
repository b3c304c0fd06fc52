from collections.abc import Callable
from datetime import date
from fractions import Fraction
from typing import Any, cast

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from kernel.uploads import unguessable_name
from units.identifiers import (
    mask_id_number,
    validate_id_number,
    validate_region_code,
    validate_uscc,
)

# Scans and attachments staff may upload: what a scanner or a court's e-filing system produces.
DOCUMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "tif", "tiff", "ofd"]


# The identifiers' validators return the normalized value, which a model field's validation
# ignores; to the type checker they are validators (the same functions: migrations unchanged).
USCC_VALIDATOR = cast(Callable[[Any], None], validate_uscc)
REGION_CODE_VALIDATOR = cast(Callable[[Any], None], validate_region_code)
ID_NUMBER_VALIDATOR = cast(Callable[[Any], None], validate_id_number)


class UnitStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    MERGED = "merged", _("merged")
    SPLIT = "split", _("split")
    BANKRUPT = "bankrupt", _("bankrupt")
    AUCTIONED = "auctioned", _("sold or leased by auction")


class Region(models.Model):
    """An administrative division (行政区划) by its 6-digit code, with the name staff read beside
    the code. Seeded from the division codes python-stdnum maintains (`units.regions`); staff
    add a code or correct a name in the admin when the divisions change."""

    code = models.CharField(
        _("region code"), max_length=6, unique=True, validators=[REGION_CODE_VALIDATOR]
    )
    name = models.CharField(_("name"), max_length=100)
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Unit(ConcurrentTransitionMixin, models.Model):
    """An insured unit (参保单位): an employer identified by its Unified Social Credit Code.

    Its status follows its succession events (`UnitEvent`), recorded by the services in
    `units.services`; `obligor` is who owes the unit's arrears after a merger, a bankruptcy or an
    auction (empty: the unit itself; after a split each successor owes its own apportioned case).
    """

    uscc = models.CharField(
        _("Unified Social Credit Code"), max_length=18, unique=True, validators=[USCC_VALIDATOR]
    )
    name = models.CharField(_("name"), max_length=200)
    region_code = models.CharField(
        _("region code"), max_length=6, validators=[REGION_CODE_VALIDATOR], db_index=True
    )
    status = FSMField(
        _("status"),
        max_length=16,
        choices=UnitStatus.choices,
        default=UnitStatus.ACTIVE,
        protected=True,
    )
    obligor = models.ForeignKey(
        "units.Counterparty",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("arrears owed by"),
    )
    fee_stops_on = models.DateField(
        _("late fee last accrues on"),
        null=True,
        blank=True,
        help_text=_("The day before the court accepted the unit's bankruptcy."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("insured unit")
        verbose_name_plural = _("insured units")
        ordering = ["uscc"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    def clean_fields(self, exclude=None):
        # The protected status is set by transitions only; cleaning would assign it again.
        super().clean_fields(exclude={*(exclude or ()), "status"})

    # The succession machine: every event starts from an active unit and is final.

    @transition(
        field=status,
        source=UnitStatus.ACTIVE,
        target=UnitStatus.MERGED,
        permission="units.record_unitevent",
    )
    def merge(self, *, obligor: "Counterparty") -> None:
        """Absorbed by the merging party, which now owes the unit's arrears."""
        self.obligor = obligor

    @transition(
        field=status,
        source=UnitStatus.ACTIVE,
        target=UnitStatus.SPLIT,
        permission="units.record_unitevent",
    )
    def split(self) -> None:
        """Divided among separated parties: each owes its share of every case."""

    @transition(
        field=status,
        source=UnitStatus.ACTIVE,
        target=UnitStatus.BANKRUPT,
        permission="units.record_unitevent",
    )
    def enter_bankruptcy(self, *, obligor: "Counterparty", fee_stops_on: date) -> None:
        """The court accepted the bankruptcy: the liquidation group answers for the arrears and
        the late fee stops the day before acceptance (企业破产法 art. 46)."""
        self.obligor = obligor
        self.fee_stops_on = fee_stops_on

    @transition(
        field=status,
        source=UnitStatus.ACTIVE,
        target=UnitStatus.AUCTIONED,
        permission="units.record_unitevent",
    )
    def auction(self, *, obligor: "Counterparty") -> None:
        """Sold or leased by auction: the competent authority answers for the arrears."""
        self.obligor = obligor


class InsuredPerson(models.Model):
    """An insured employee, stored once whatever the number of units and periods they appear in.

    The citizen ID number is also the social security number (Social Insurance Law Art. 58). It is
    personal data: lists and exports show `masked_id_number`.
    """

    id_number = models.CharField(
        _("citizen ID number"), max_length=18, unique=True, validators=[ID_NUMBER_VALIDATOR]
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


class UnitEventKind(models.TextChoices):
    MERGER = "merger", _("merger")
    SPLIT = "split", _("split")
    BANKRUPTCY = "bankruptcy", _("bankruptcy")
    AUCTION_SALE = "auction_sale", _("sale by auction")
    AUCTION_LEASE = "auction_lease", _("lease by auction")


AUCTION_KINDS = (UnitEventKind.AUCTION_SALE, UnitEventKind.AUCTION_LEASE)


class UnitEvent(models.Model):
    """A change of a unit that routes its arrears to another counterparty (docs/rules.md, step 2).

    Recorded once, by a service, and never edited: a unit has at most one succession event, since
    each one ends the unit as the agency's debtor. The parties it names are its `Counterparty`
    rows; its documents are `document_ref` and its attachments.
    """

    unit = models.OneToOneField(
        Unit, on_delete=models.PROTECT, related_name="event", verbose_name=_("unit")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UnitEventKind.choices)
    occurred_on = models.DateField(
        _("effective on"),
        help_text=_("The registration date of a merger or split, the court's acceptance date of "
                    "a bankruptcy, the date of an auction."),
    )  # fmt: skip
    document_ref = models.CharField(
        _("document reference"),
        max_length=200,
        blank=True,
        help_text=_("Registration notice, merger or split agreement, auction confirmation, …"),
    )
    court = models.CharField(_("court"), max_length=200, blank=True)
    court_case_no = models.CharField(_("court case number"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.CharField(_("recorded by"), max_length=150)

    class Meta:
        verbose_name = _("unit event")
        verbose_name_plural = _("unit events")
        ordering = ["-recorded_at", "-id"]
        permissions = [
            ("record_unitevent", _("Can record a merger, split, bankruptcy or auction")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="bankruptcy") | (~Q(court="") & ~Q(court_case_no="")),
                name="unitevent_bankruptcy_has_court_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit.name}"

    @property
    def accepted_on(self) -> date | None:
        """The court's acceptance date of a bankruptcy."""
        return self.occurred_on if self.kind == UnitEventKind.BANKRUPTCY else None


def attachment_path(instance: "UnitEventAttachment", filename: str) -> str:
    # Not the event's id: a stored name must not be guessable (kernel.uploads).
    return unguessable_name("unit-events", filename)


class UnitEventAttachment(models.Model):
    event = models.ForeignKey(
        UnitEvent, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("event")
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(
        _("file"),
        upload_to=attachment_path,
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS)],
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.CharField(_("uploaded by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title


class CounterpartyKind(models.TextChoices):
    UNIT = "unit", _("the unit itself")
    MERGING_PARTY = "merging_party", _("merging party")
    SEPARATED_PARTY = "separated_party", _("separated party")
    LIQUIDATION_GROUP = "liquidation_group", _("liquidation group")
    COMPETENT_AUTHORITY = "competent_authority", _("competent authority")


class Counterparty(models.Model):
    """Who an agreement is signed with and who owes a case (its obligor).

    The unit itself (for an installment agreement), or a party named by a succession event: the
    merging party, each separated party with its share, the liquidation group, the competent
    authority. `unit` links to the insured unit it is, when it is one the agency knows; the
    link back to the original unit is `event.unit`.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=CounterpartyKind.choices)
    event = models.ForeignKey(
        UnitEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parties",
        verbose_name=_("event"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counterparty_roles",
        verbose_name=_("insured unit"),
    )
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("Unified Social Credit Code"), max_length=18, blank=True, validators=[USCC_VALIDATOR]
    )
    head = models.CharField(
        _("head"), max_length=100, blank=True, help_text=_("Legal representative or group head.")
    )
    contact = models.CharField(
        _("contact"), max_length=200, blank=True, help_text=_("Telephone and address.")
    )
    share_numerator = models.PositiveIntegerField(_("share numerator"), null=True, blank=True)
    share_denominator = models.PositiveIntegerField(_("share denominator"), null=True, blank=True)

    class Meta:
        verbose_name = _("counterparty")
        verbose_name_plural = _("counterparties")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="unit"), name="counterparty_one_self_per_unit"
            ),
            models.CheckConstraint(
                condition=Q(kind="separated_party", share_numerator__gt=0, share_denominator__gt=0)
                | Q(
                    ~Q(kind="separated_party"),
                    share_numerator__isnull=True,
                    share_denominator__isnull=True,
                ),
                name="counterparty_share_only_for_separated_party",
            ),
            models.CheckConstraint(
                condition=Q(kind="unit", unit__isnull=False, event__isnull=True)
                | Q(~Q(kind="unit"), event__isnull=False),
                name="counterparty_self_or_named_by_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_kind_display()})"

    @property
    def display_name(self) -> str:
        unit = self.unit if self.kind == CounterpartyKind.UNIT else None
        return unit.name if unit is not None else self.name

    @property
    def display_uscc(self) -> str:
        unit = self.unit if self.kind == CounterpartyKind.UNIT else None
        return unit.uscc if unit is not None else self.uscc

    @property
    def identifier(self) -> str:
        """The USCC, or the name where the party has none (a liquidation group)."""
        return self.display_uscc or self.display_name

    @property
    def share(self) -> Fraction | None:
        if self.share_numerator is None:
            return None
        return Fraction(self.share_numerator, self.share_denominator)


class PortalMembership(models.Model):
    """Who a portal user acts for: one insured unit, or one counterparty (a liquidation group, a
    competent authority, a successor) that sees the agreements it is party to.

    A user has at most one membership; staff create it with the user (`units.portal.
    portal_user_create`). Portal pages and the portal's services ask it, never `is_staff`.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_membership",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_memberships",
        verbose_name=_("unit"),
    )
    counterparty = models.ForeignKey(
        Counterparty,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_memberships",
        verbose_name=_("counterparty"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=150)

    class Meta:
        verbose_name = _("portal membership")
        verbose_name_plural = _("portal memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, counterparty__isnull=True)
                | Q(unit__isnull=True, counterparty__isnull=False),
                name="portal_membership_unit_or_counterparty",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.unit or self.counterparty}"

    @cached_property
    def own_counterparty_ids(self) -> list[int]:
        """The unit's few counterparty rows (itself as a party, a successor, …), read once for
        the membership a request carries (a portal page asks for its cases, notices and
        agreements). A member for a counterparty of no unit: the rows of no unit."""
        if self.unit_id is None:
            rows = Counterparty.objects.filter(unit__isnull=True)
        else:
            rows = Counterparty.objects.filter(unit_id=self.unit_id)
        return list(rows.values_list("pk", flat=True))
