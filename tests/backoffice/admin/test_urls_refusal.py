"""Every admin URL, opened by a staff user of each department by GET and by POST: a page, a
redirect or a refusal, never a server error (a department trying another's action by URL)."""

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver

from notices.models import Notice
from notices.services import case_issue_notice
from replenish.departments import DEPARTMENTS
from replenish.models import ArrearsCase
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    accepted_payment,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db
APPS = ("replenish", "units", "notices")


def admin_urls(pk: int) -> list[str]:
    """The admin's URLs of the project's apps, with `pk` for every object argument."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and p.name.startswith(APPS):
                route = prefix + str(p.pattern)
                for converter in ("<int:pk>", "<path:object_id>", "<int:case_id>", "<int:id>"):
                    route = route.replace(converter, str(pk))
                if "<" not in route:
                    found.append("/admin/" + route.lstrip("^").rstrip("$"))

    walk(admin.site.get_urls(), "")
    return sorted(set(found))


@pytest.fixture
def objects():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = ArrearsCase.objects.get()
    case_issue_notice(case_id=case.pk, actor=SYSTEM)
    accepted_payment(case, "100.00")
    import_arrivals([ArrivalRowFactory(unit_no=99)])
    return case


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_no_admin_url_is_a_server_error_for_any_department(client, objects, department):
    # given
    client.force_login(department_user(department))
    urls = admin_urls(objects.pk)
    assert len(urls) > 40
    notices_before = Notice.objects.count()

    # when every URL is opened and posted to
    failures = []
    for url in urls:
        for method in (client.get, client.post):
            status = method(url).status_code
            if status >= 500:
                failures.append((method.__name__, url, status))

    # then
    assert failures == []
    if department != DEPARTMENTS[0]:
        assert Notice.objects.count() == notices_before  # only collection issues notices
