from django.db import transaction

from replenish.models import NumberSequence


def number_block_take(*, scope: str, count: int = 1) -> int:
    """Take `count` consecutive numbers in `scope` and return the first.

    Runs in the caller's transaction under a row lock, so concurrent callers queue and a rollback
    returns the numbers: no number is used twice and none is skipped.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be taken inside the transaction that uses them")
    NumberSequence.objects.bulk_create([NumberSequence(scope=scope)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(scope=scope)
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return first
