"""Region names beside their codes (issue 19, part 3): the table is seeded from python-stdnum's
administrative division codes, the current ones with the names above them; staff correct a name
in the admin and every screen shows it at once; lists filter by region with the names."""

import pytest
from django.urls import reverse

from replenish.departments import COLLECTION, FINANCE
from tests.factories import ArrearsRowFactory, department_user, import_rows
from units.models import Region
from units.regions import division_codes, region_label, regions_seed

pytestmark = pytest.mark.django_db


def test_the_migration_seeded_the_current_divisions_with_their_full_names():
    assert Region.objects.count() > 3000
    assert region_label("310104") == "310104 上海市徐汇区"
    assert region_label("440305") == "440305 广东省深圳市南山区"
    assert region_label("310000") == "310000 上海市"
    # abolished (崇文区, 2010) and groupings of the source (市辖区) are not divisions of today
    assert not Region.objects.filter(code__in=["110103", "310100"]).exists()
    # a code the table does not know shows alone
    assert region_label("999999") == "999999"


def test_seeding_again_adds_only_what_is_missing_and_keeps_staffs_names():
    Region.objects.filter(code="310104").update(name="徐汇区（更名前）")
    Region.objects.filter(code="310101").delete()
    assert regions_seed() == 1
    assert Region.objects.get(code="310104").name == "徐汇区（更名前）"
    assert Region.objects.count() == len(dict(division_codes()))


def test_collection_corrects_a_name_and_the_case_list_shows_it_at_once(client):
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    clerk = department_user(COLLECTION, "clerk")
    client.force_login(clerk)
    region = Region.objects.get(code="310101")
    cases = reverse("admin:replenish_arrearscase_changelist")
    assert "310101 上海市黄浦区" in client.get(cases).content.decode()

    response = client.post(
        reverse("admin:units_region_change", args=[region.pk]), {"name": "上海市黄浦区（测试）"}
    )

    assert response.status_code == 302
    region.refresh_from_db()
    assert (region.name, region.changed_by) == ("上海市黄浦区（测试）", "clerk")
    assert "310101 上海市黄浦区（测试）" in client.get(cases).content.decode()


def test_finance_reads_the_regions_but_does_not_change_them(client):
    client.force_login(department_user(FINANCE, "cashier"))
    region = Region.objects.get(code="310101")
    assert client.get(reverse("admin:units_region_changelist")).status_code == 200
    client.post(reverse("admin:units_region_change", args=[region.pk]), {"name": "别的名字"})
    region.refresh_from_db()
    assert region.name == "上海市黄浦区"
