"""A unit's user who forgot the password gets a code by SMS or e-mail at the address the agency
holds for the unit, and sets a new one with it; wrong codes, old codes and too many requests are
refused, and the answer never tells whether a user exists."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone, translation

from notices.models import Notification
from notices.sending import notification_send
from portal.models import PasswordResetCode
from portal.password_reset import password_reset_confirm, password_reset_request
from tests.factories import UnitContactFactory, UnitFactory, portal_user, table_counts

pytestmark = pytest.mark.django_db
NEW = "Neues-Passwort-2026"


def send_waiting() -> None:
    """What the worker does after commit: send the messages waiting (idempotent)."""
    for message in Notification.objects.filter(state="pending"):
        notification_send(notification_id=message.pk)


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def unit_user():
    unit = UnitFactory()
    UnitContactFactory(unit=unit, email="caiwu@unit.example.cn", mobile="13812345678")
    return portal_user("acct", unit=unit)


def sent_code(outbox) -> str:
    send_waiting()
    return next(word for word in outbox[-1].text.replace("，", " ").split() if word.isdigit())


def test_a_code_by_sms_sets_a_new_password(client, unit_user, sms_outbox):
    # when the user asks for a code by SMS on the portal
    response = client.post("/portal/password/reset/", {"username": "acct", "channel": "sms"})

    # then a code goes to the unit's registered mobile, which the page names masked
    assert response.status_code == 302
    send_waiting()
    assert [m.to for m in sms_outbox] == ["13812345678"]
    code = sent_code(sms_outbox)
    assert len(code) == 6 and "有效期 15 分钟" in sms_outbox[-1].text
    page = client.get(response["Location"]).content.decode()
    assert "138****5678" in page and "13812345678" not in page

    # when it enters the code with a new password
    response = client.post(
        "/portal/password/reset/confirm/",
        {"username": "acct", "code": code, "new_password1": NEW, "new_password2": NEW},
    )

    # then the password is changed and the code is used up
    assert (response.status_code, response["Location"]) == (302, "/portal/login/")
    assert get_user_model().objects.get(username="acct").check_password(NEW)
    with pytest.raises(ValidationError, match="已失效"):
        password_reset_confirm(username="acct", code=code, password="Another-Pass-2026")


def test_a_code_by_e_mail(unit_user):
    sent = password_reset_request(username="acct", channel="email")
    send_waiting()
    assert sent.sent_to == "c***@unit.example.cn"
    assert mail.outbox[-1].to == ["caiwu@unit.example.cn"]
    assert "acct" in mail.outbox[-1].body


def test_wrong_codes_lock_the_code_and_the_password_stays(unit_user, sms_outbox, settings):
    # given a code sent
    password_reset_request(username="acct", channel="sms")
    code = sent_code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"

    # when a wrong code is entered as often as allowed
    for left in range(settings.PASSWORD_RESET_MAX_ATTEMPTS - 1, -1, -1):
        with pytest.raises(ValidationError) as refused:
            password_reset_confirm(username="acct", code=wrong, password=NEW)
        assert (f"还可尝试 {left} 次" if left else "已作废") in str(refused.value)

    # then even the right code is refused, and the old password still works
    with pytest.raises(ValidationError, match="已失效"):
        password_reset_confirm(username="acct", code=code, password=NEW)
    assert get_user_model().objects.get(username="acct").check_password("pw-for-tests")
    assert PasswordResetCode.objects.get().attempts == settings.PASSWORD_RESET_MAX_ATTEMPTS


def test_an_expired_code_is_refused(unit_user, sms_outbox):
    password_reset_request(username="acct", channel="sms", now=timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationError, match="已失效"):
        password_reset_confirm(username="acct", code=sent_code(sms_outbox), password=NEW)


def test_too_many_codes_an_hour_are_refused(client, unit_user, sms_outbox, settings):
    for _n in range(settings.PASSWORD_RESET_PER_HOUR):
        password_reset_request(username="acct", channel="sms")
    send_waiting()
    before = table_counts()
    response = client.post("/portal/password/reset/", {"username": "acct", "channel": "sms"})
    send_waiting()
    assert response.status_code == 200
    assert "请稍后再试" in response.content.decode()
    assert len(sms_outbox) == settings.PASSWORD_RESET_PER_HOUR
    assert table_counts() == before


def test_an_unknown_user_gets_the_same_answer_and_nothing_is_sent(client, unit_user, sms_outbox):
    before = Notification.objects.count()
    response = client.post("/portal/password/reset/", {"username": "nobody", "channel": "sms"})
    page = client.get(response["Location"]).content.decode()
    send_waiting()
    assert "如该用户在经办机构登记了" in page
    assert (Notification.objects.count(), sms_outbox, PasswordResetCode.objects.count()) == (
        before,
        [],
        0,
    )


@override_settings(AXES_FAILURE_LIMIT=2)
def test_a_user_locked_out_after_failed_sign_ins_signs_in_after_the_reset(unit_user, sms_outbox):
    # given the user is locked out
    client = Client()
    for _n in range(2):
        client.post("/portal/login/", {"username": "acct", "password": "wrong"})
    assert (
        client.post("/portal/login/", {"username": "acct", "password": "pw-for-tests"}).status_code
        != 302
    )

    # when it resets its password with a code
    password_reset_request(username="acct", channel="sms")
    password_reset_confirm(username="acct", code=sent_code(sms_outbox), password=NEW)

    # then it signs in with the new one
    response = client.post("/portal/login/", {"username": "acct", "password": NEW})
    assert (response.status_code, response["Location"]) == (302, "/portal/")
