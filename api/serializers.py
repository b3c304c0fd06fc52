from rest_framework import serializers

from kernel.inputs import AmountSerializerField, DateSerializerField
from replenish.models import PaymentChannel


class Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, **kwargs)


class BalanceLineSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    period = serializers.CharField()
    person = serializers.CharField()
    id_number = serializers.CharField(help_text="Masked: the first 6 and the last 4 characters.")
    principal = Money()
    late_fee = Money()
    fee_runs_from = serializers.DateField()


class BalanceSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    principal = Money()
    late_fee = Money()
    total = Money()
    lines = BalanceLineSerializer(many=True)


class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    case_no = serializers.CharField(source="case.case_no")
    state = serializers.CharField()
    issued_on = serializers.DateField()
    delivered_on = serializers.DateField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class InstallmentSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    due_on = serializers.DateField()
    amount = Money()
    cumulative = Money()


class AgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.CharField()
    case_no = serializers.CharField(source="case.case_no")
    counterparty = serializers.CharField(source="counterparty.name")
    next_due = InstallmentSerializer(allow_null=True)
    installments = InstallmentSerializer(many=True, source="schedule")


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_no = serializers.CharField(source="case.case_no")
    amount = Money()
    channel = serializers.CharField()
    paid_on = serializers.DateField()
    reference = serializers.CharField()
    via = serializers.CharField()
    state = serializers.CharField()


class ArrivalSerializer(serializers.Serializer):
    arrival_ref = serializers.CharField()
    arrived_on = serializers.DateField()
    amount = Money()
    payer_uscc = serializers.CharField()
    reference = serializers.CharField()
    channel = serializers.CharField()
    state = serializers.CharField()
    case_no = serializers.CharField(source="case.case_no", allow_null=True, default=None)
    matched_by = serializers.CharField()
    applied_amount = Money()
    credit_amount = Money()


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    notice_id = serializers.IntegerField(allow_null=True)


class ArrivalInSerializer(serializers.Serializer):
    """One arrival, with the fields and rules of a row of the arrivals file (docs/formats.md);
    the file's import checks each value again and matches the arrival."""

    arrival_ref = serializers.CharField(max_length=64)
    arrived_on = DateSerializerField(help_text="YYYY-MM-DD, not in the future.")
    amount = AmountSerializerField(
        help_text='A string, digits with at most 2 decimals, greater than 0 ("1200.50").'
    )
    payer_uscc = serializers.CharField(max_length=18)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=PaymentChannel.values)


class ArrivalResultSerializer(serializers.Serializer):
    replayed = serializers.BooleanField(
        help_text="True when this arrival_ref had been received before: nothing was written."
    )
    arrival = ArrivalSerializer()
