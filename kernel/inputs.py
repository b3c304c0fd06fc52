"""Amounts and dates typed into a form or sent to the API, read by the parsers of the files
(`kernel.csvfiles.parse_amount` / `parse_date`): one rule for every way in.

A form shows its refusal in the clerk's language; the API answers the parser's own reason.
A JSON number is refused for an amount: a float cannot hold every amount in fen exactly, and
the file format writes amounts as text.
"""

from datetime import date, datetime
from decimal import Decimal

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

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "inputmode": "decimal", "maxlength": "20"}

    def to_python(self, value) -> Decimal | None:
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


class DateField(forms.DateField):
    """A date as YYYY-MM-DD (what a date picker sends), not before settings.EARLIEST_DATE."""

    default_error_messages = {
        "invalid": _("Enter a date as YYYY-MM-DD."),
        "early": _("The date must not be before %(date)s."),
    }

    def to_python(self, value) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = parse_iso_date(str(value).strip())
            except BadValue:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
        if value < earliest_date():
            raise forms.ValidationError(
                self.error_messages["early"], code="early", params={"date": earliest_date()}
            )
        return value


class AmountSerializerField(serializers.CharField):
    """An amount sent to the API: a JSON string with the file format's rules ("1200.50")."""

    default_error_messages = {
        **serializers.CharField.default_error_messages,
        "type": 'must be a string such as "1200.50", not a JSON number',
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            self.fail("type")
        try:
            return parse_amount(data, allow_zero=self.allow_zero)
        except BadValue as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


class DateSerializerField(serializers.DateField):
    """A date sent to the API: a JSON string YYYY-MM-DD, not before settings.EARLIEST_DATE."""

    default_error_messages = {
        **serializers.DateField.default_error_messages,
        "type": "must be a string YYYY-MM-DD",
    }

    def to_internal_value(self, data) -> date:
        if not isinstance(data, str):
            self.fail("type")
        try:
            return parse_date(data)
        except BadValue as exc:
            raise serializers.ValidationError(str(exc)) from None
