import uuid

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from kernel.inputs import AmountField, DateField
from replenish.models import PaymentChannel, WriteOffDocumentKind
from replenish.services.writeoff import Upload

PROOF_TYPES = ["pdf", "jpg", "jpeg", "png"]


class PaymentDeclareForm(forms.Form):
    """A payment the unit made: which case, how, when, how much, what it quoted, its proof."""

    case = forms.TypedChoiceField(label=_("case"), coerce=int)
    channel = forms.ChoiceField(
        label=_("channel"),
        choices=[c for c in PaymentChannel.choices if c[0] != PaymentChannel.COUNTER],
    )
    # An <input type="date"> takes only ISO dates, whatever the language's date format.
    paid_on = DateField(
        label=_("paid on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    amount = AmountField(label=_("amount"))
    reference = forms.CharField(
        label=_("notice or agreement number quoted"), max_length=64, required=False
    )
    channel_ref = forms.CharField(label=_("transaction number"), max_length=64, required=False)
    proof = forms.FileField(
        label=_("proof of payment"),
        required=False,
        validators=[FileExtensionValidator(PROOF_TYPES)],
        help_text=_("PDF, JPG or PNG, at most 5 MB."),
    )

    # The form's idempotency key: the same form sent twice makes one payment.
    declaration_key = forms.CharField(
        max_length=64,
        widget=forms.HiddenInput,
        error_messages={"required": _("The form is incomplete; reload the page and try again.")},
    )
    # Shown (as a checkbox) only when the amount is above what the case owes.
    confirm_overpayment = forms.BooleanField(
        label=_("Yes, I paid more than the case owes; keep the rest as our credit."),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, case_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = case_choices
        if not self.is_bound:
            self.initial.setdefault("declaration_key", uuid.uuid4().hex)

    def ask_to_confirm_overpayment(self) -> None:
        self.fields["confirm_overpayment"].widget = forms.CheckboxInput()

    def clean_proof(self):
        proof = self.cleaned_data.get("proof")
        if proof and proof.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The proof is larger than 5 MB."))
        return proof


class WriteOffApplyForm(forms.Form):
    """A liquidation group's application to write off what a bankrupt unit cannot pay, with the
    five documents the examination needs."""

    case = forms.TypedChoiceField(label=_("case"), coerce=int)
    note = forms.CharField(label=_("note"), max_length=500, required=False, widget=forms.Textarea)

    def __init__(self, *args, case_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = case_choices
        for kind, label in WriteOffDocumentKind.choices:
            self.fields[f"doc_{kind}"] = forms.FileField(
                label=label,
                validators=[FileExtensionValidator(PROOF_TYPES)],
                help_text=_("PDF, JPEG or PNG"),
            )

    def uploads(self) -> list:
        return [
            Upload(kind=kind, file=self.cleaned_data[f"doc_{kind}"])
            for kind in WriteOffDocumentKind.values
        ]
