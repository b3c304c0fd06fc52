"""Amounts and dates typed into a form or sent to the API, read by the parsers of the files
(`kernel.csvfiles.parse_amount` / `parse_date`): one rule for every way in.

A form shows its refusal in the clerk's language; the API answers the parser's own reason.
A JSON number is refused for an amount: a float cannot hold every amount in fen exactly, and
the file format writes amounts as text.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kernel.csvfiles import BadValue, earliest_date, parse_amount, parse_date, parse_iso_date


class AmountField(forms.CharField):
    """An amount in yuan: ASCII digits with at most 2 decimals (what the files accept)."""

    default_error_messages = {
        "invalid": _("Enter an amount in yuan: digits with at most 2 decimals, such as 1200.50."),
        "zero": _("The amount must be greater than 0."),
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "inputmode": "decimal", "maxlength": "20"}

    # A form field's `to_python` returns the field's Python value; django-stubs pins
    # CharField's to `str | None`, and this field reads its text as an amount.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = parse_amount(value, allow_zero=True)
        except BadValue:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if amount == 0 and not self.allow_zero:
            raise forms.ValidationError(self.error_messages["zero"], code="zero")
        return amount


class ISODateInput(forms.DateInput):
    """A date picker whose value is always written YYYY-MM-DD, whatever the language's date
    format (the field reads nothing else back)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


class DateField(forms.DateField):
    """A date as YYYY-MM-DD (what a date picker sends), not before settings.EARLIEST_DATE."""

    widget = ISODateInput

    default_error_messages = {
        "invalid": _("Enter a date as YYYY-MM-DD."),
        "early": _("The date must not be before %(date)s."),
    }

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        day: date
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        else:
            try:
                day = parse_iso_date(str(value).strip())
            except BadValue:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
        if day < earliest_date():
            raise forms.ValidationError(
                self.error_messages["early"], code="early", params={"date": earliest_date()}
            )
        return day


class AmountSerializerField(serializers.CharField):
    """An amount sent to the API: a JSON string with the file format's rules ("1200.50")."""

    default_error_messages = {
        **serializers.CharField.default_error_messages,
        "type": 'must be a string such as "1200.50", not a JSON number',
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    # The field reads a JSON string as an amount; the DRF stubs pin CharField's internal value
    # to `str`.
    def to_internal_value(self, data: Any) -> Decimal:  # type: ignore[override]
        if not isinstance(data, str):
            self.fail("type")
        try:
            return parse_amount(data, allow_zero=self.allow_zero)
        except BadValue as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Any) -> str:
        return f"{Decimal(value):.2f}"


class DateSerializerField(serializers.DateField):
    """A date sent to the API: a JSON string YYYY-MM-DD, not before settings.EARLIEST_DATE."""

    default_error_messages = {
        **serializers.DateField.default_error_messages,
        "type": "must be a string YYYY-MM-DD",
    }

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str):
            self.fail("type")
        try:
            return parse_date(data)
        except BadValue as exc:
            raise serializers.ValidationError(str(exc)) from None
