import pytest

from notices.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def sms_outbox():
    """The test SMS gateway's outbox, empty for each test; `failures` makes sends fail."""
    LocmemSmsBackend.outbox = []
    LocmemSmsBackend.failures = []
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox = []
    LocmemSmsBackend.failures = []
