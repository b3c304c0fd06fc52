import pytest
from django.test import override_settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(client):
    # given a staff user
    UserFactory(username="clerk")

    # when three logins fail
    for _attempt in range(3):
        response = client.post("/admin/login/", {"username": "clerk", "password": "wrong"})

    # then the last is refused as locked out, and the right password no longer gets in
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": "clerk", "password": "pw-for-tests"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_correct_login_after_a_failure_gets_in(client):
    UserFactory(username="clerk")
    client.post("/admin/login/", {"username": "clerk", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "clerk", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
