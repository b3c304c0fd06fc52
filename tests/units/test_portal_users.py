"""Portal users: staff of the collection department create them from the unit's page; a portal
user acts for its unit only and changes its own password."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from replenish.departments import COLLECTION, FINANCE
from tests.factories import UnitFactory, department_user, portal_user
from units.models import PortalMembership
from units.portal import PORTAL_GROUP, membership_of, portal_user_create

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_collection_department_creates_a_unit_user():
    # given
    unit = UnitFactory(name="甲厂")
    collector = department_user(COLLECTION, "collector")

    # when
    membership = portal_user_create(
        unit_id=unit.pk, username="jiachang", password="Hard-2-guess!", actor=collector
    )

    # then the user is no staff, in the portal group, acting for that unit
    user = User.objects.get(username="jiachang")
    assert (user.is_staff, user.is_superuser, user.check_password("Hard-2-guess!")) == (
        False,
        False,
        True,
    )
    assert list(user.groups.values_list("name", flat=True)) == [PORTAL_GROUP]
    assert user.has_perm("notices.acknowledge_notice")
    assert (membership.unit, membership.counterparty, membership.created_by) == (
        unit,
        None,
        "collector",
    )
    assert membership_of(user) == membership


def test_finance_may_not_create_a_portal_user_and_nothing_is_created():
    unit = UnitFactory()
    cashier = department_user(FINANCE, "cashier")
    with pytest.raises(PermissionDenied, match="cashier may not create a portal user"):
        portal_user_create(unit_id=unit.pk, username="x", password="Hard-2-guess!", actor=cashier)
    assert not User.objects.filter(username="x").exists()
    assert not PortalMembership.objects.exists()


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("collector", "Hard-2-guess!", "username"),  # taken
        ("  ", "Hard-2-guess!", "username"),
        ("newunit", "123", "password"),  # too short, too common, numeric
    ],
)
def test_a_bad_user_name_or_password_is_refused(username, password, field):
    unit = UnitFactory()
    collector = department_user(COLLECTION, "collector")
    users = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        portal_user_create(unit_id=unit.pk, username=username, password=password, actor=collector)
    assert list(refused.value.message_dict) == [field]
    assert User.objects.count() == users
    assert not PortalMembership.objects.exists()


def test_a_user_acts_for_a_unit_or_a_counterparty_not_both():
    collector = department_user(COLLECTION, "collector")
    with pytest.raises(ValidationError, match="one unit or one counterparty"):
        portal_user_create(username="x", password="Hard-2-guess!", actor=collector)


def test_staff_create_a_unit_user_on_the_unit_admin_page(client):
    # given a collection officer on the unit's page
    unit = UnitFactory(name="乙厂")
    collector = department_user(COLLECTION, "collector")
    client.force_login(collector)
    page = client.get(f"/admin/units/unit/{unit.pk}/change/").content.decode()
    assert f"/admin/units/unit/{unit.pk}/portal-user/" in page

    # when the form is sent, with passwords that differ first
    url = f"/admin/units/unit/{unit.pk}/portal-user/"
    differ = client.post(
        url, {"username": "yichang", "password1": "Hard-2-guess!", "password2": "other"}
    )
    assert differ.status_code == 200
    assert not User.objects.filter(username="yichang").exists()
    done = client.post(
        url, {"username": "yichang", "password1": "Hard-2-guess!", "password2": "Hard-2-guess!"}
    )

    # then the user exists for the unit and the unit's page is shown again
    assert done.status_code == 302
    assert done["Location"] == f"/admin/units/unit/{unit.pk}/change/"
    assert PortalMembership.objects.get(user__username="yichang").unit == unit


def test_the_portal_user_page_is_refused_without_the_permission(client):
    unit = UnitFactory()
    client.force_login(department_user(FINANCE, "cashier"))
    assert client.get(f"/admin/units/unit/{unit.pk}/portal-user/").status_code == 403


def test_a_unit_user_changes_its_password_and_signs_in_with_the_new_one(client):
    # given
    user = portal_user("unit1", unit=UnitFactory(), password="Old-pass-123")
    client.force_login(user)

    # when
    response = client.post(
        "/portal/password/",
        {
            "old_password": "Old-pass-123",
            "new_password1": "New-pass-456!",
            "new_password2": "New-pass-456!",
        },
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/portal/password/done/"
    user.refresh_from_db()
    assert user.check_password("New-pass-456!")
    assert "密码已修改" in client.get("/portal/password/done/").content.decode()
