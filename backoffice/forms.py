"""The staff forms that record a unit's succession event. They only collect and shape input: the
rules are checked by the services in `replenish.services.unit_events`, whose errors the admin
shows as messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.inputs import DateField, ISODateInput
from replenish.services.unit_events import EventDocument, Party

# A date picker whose value is written YYYY-MM-DD whatever the language (kernel.inputs).
DateInput = ISODateInput


class EventForm(forms.Form):
    occurred_on = DateField(label=_("effective on"), widget=DateInput)
    document_ref = forms.CharField(label=_("document reference"), max_length=200, required=False)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def document(self) -> EventDocument:
        data = self.cleaned_data
        return EventDocument(
            occurred_on=data["occurred_on"], document_ref=data["document_ref"], note=data["note"]
        )


class PartyFields(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    uscc = forms.CharField(label=_("Unified Social Credit Code"), max_length=40, required=False)
    head = forms.CharField(label=_("head"), max_length=100, required=False)
    contact = forms.CharField(label=_("contact"), max_length=200, required=False)

    def party(self, **extra) -> Party:
        data = self.cleaned_data
        return Party(
            name=data["name"],
            uscc=data["uscc"],
            head=data["head"],
            contact=data["contact"],
            **extra,
        )


class MergerForm(EventForm):
    title = _("Record a merger")
    party_heading = _("Merging party")


class AuctionForm(EventForm):
    title = _("Record a sale or lease by auction")
    party_heading = _("Competent authority")
    lease = forms.TypedChoiceField(
        label=_("kind"),
        choices=[("", _("sale by auction")), ("1", _("lease by auction"))],
        coerce=bool,
        empty_value=False,
        required=False,
    )


class BankruptcyForm(forms.Form):
    title = _("Record a bankruptcy")
    party_heading = _("Liquidation group")
    court = forms.CharField(label=_("court"), max_length=200)
    court_case_no = forms.CharField(label=_("court case number"), max_length=100)
    accepted_on = DateField(label=_("accepted by the court on"), widget=DateInput)
    document_ref = forms.CharField(label=_("document reference"), max_length=200, required=False)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SplitForm(EventForm):
    title = _("Record a split")


class SuccessorForm(PartyFields):
    share = forms.CharField(
        label=_("share"), max_length=30, help_text=_("A fraction such as 1/3, or 0.25.")
    )
    uscc = forms.CharField(label=_("Unified Social Credit Code"), max_length=40)


SuccessorFormSet = forms.formset_factory(SuccessorForm, extra=3, min_num=2, validate_min=True)


FORMS = {
    "merger": MergerForm,
    "split": SplitForm,
    "bankruptcy": BankruptcyForm,
    "auction": AuctionForm,
}


class PortalUserForm(forms.Form):
    """A portal user for a unit, created by staff on the unit's page."""

    username = forms.CharField(label=_("user name"), max_length=150)
    password1 = forms.CharField(label=_("password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label=_("password (again)"), widget=forms.PasswordInput, strip=False
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data
