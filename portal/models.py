from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentProof(models.Model):
    """The proof a unit uploaded with a payment it declared on the portal."""

    payment = models.OneToOneField(
        "replenish.Payment",
        on_delete=models.PROTECT,
        related_name="proof",
        verbose_name=_("payment"),
    )
    file = models.FileField(_("file"), upload_to="payment-proofs/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.CharField(_("uploaded by"), max_length=150)

    class Meta:
        verbose_name = _("proof of payment")
        verbose_name_plural = _("proofs of payment")

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.file.name}"
