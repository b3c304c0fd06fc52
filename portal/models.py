from django.conf import settings
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


class PasswordResetCode(models.Model):
    """A one-time code sent to the unit's registered e-mail or mobile to set a new password.

    Only a hash of the code is kept here; it expires after `PASSWORD_RESET_CODE_MINUTES` and
    after `PASSWORD_RESET_MAX_ATTEMPTS` wrong entries (the lockout), and is used once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    channel = models.CharField(_("sent by"), max_length=8)
    code_hash = models.CharField(_("code (hashed)"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong entries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")
        indexes = [models.Index(fields=["user", "created_at"], name="reset_code_user_created")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
