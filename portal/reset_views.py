"""The portal's "forgot my password" pages: ask for a code, then set a new password with it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notices.models import Channel
from portal.password_reset import password_reset_confirm, password_reset_request


class ResetRequestForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("user name"), max_length=150)
    channel = forms.ChoiceField(
        label=gettext_lazy("send the code by"),
        choices=[(Channel.SMS, gettext_lazy("SMS")), (Channel.EMAIL, gettext_lazy("e-mail"))],
        widget=forms.RadioSelect,
        initial=Channel.SMS,
    )


class ResetConfirmForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("user name"), max_length=150)
    code = forms.CharField(label=gettext_lazy("code"), max_length=6, min_length=6)
    new_password1 = forms.CharField(
        label=gettext_lazy("new password"), widget=forms.PasswordInput, strip=False
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("new password again"), widget=forms.PasswordInput, strip=False
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def reset_request(request):
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = password_reset_request(
                username=form.cleaned_data["username"], channel=form.cleaned_data["channel"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if sent.sent_to:
                messages.success(
                    request,
                    _("A code was sent to %(address)s. Enter it below.")
                    % {"address": sent.sent_to},
                )
            else:
                # The same answer whether or not the user exists.
                messages.info(
                    request,
                    _(
                        "If this user has an e-mail address or mobile number registered with "
                        "the agency, a code was sent to it. Otherwise call the agency."
                    ),
                )
            url = reverse("portal:password_reset_confirm")
            return HttpResponseRedirect(f"{url}?username={form.cleaned_data['username']}")
    return render(request, "portal/password_reset.html", {"form": form})


def reset_confirm(request):
    form = ResetConfirmForm(
        request.POST or None, initial={"username": request.GET.get("username", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            password_reset_confirm(
                username=data["username"], code=data["code"], password=data["new_password1"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your new password is set. Sign in with it."))
            return HttpResponseRedirect(reverse("portal:login"))
    return render(request, "portal/password_reset_confirm.html", {"form": form})
