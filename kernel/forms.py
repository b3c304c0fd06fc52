"""Forms every app's screens share."""

from django import forms
from django.core.exceptions import ValidationError


def form_errors_add(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's refusal shown on the form: an error naming a field of the form at that
    field, every other error above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
