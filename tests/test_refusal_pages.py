"""A refusal says why, in Chinese: no admin URL answers a bare "403 Forbidden" page to a
department that may not use it, and a refusal names states and actions in words, not codes."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from replenish.departments import DEPARTMENTS
from replenish.services.writeoff import writeoff_approve
from tests.backoffice.admin.test_urls_refusal import admin_urls, objects  # noqa: F401  (the fixture)
from tests.factories import (
    ArrearsRowFactory,
    department_user,
    go_bankrupt,
    import_rows,
    submitted_writeoff,
)

pytestmark = pytest.mark.django_db
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_every_refused_admin_url_shows_a_message_in_chinese(client, objects, department):  # noqa: F811
    # given
    client.force_login(department_user(department))

    # when every URL is opened and posted to
    refused, bare = 0, []
    for url in admin_urls(objects.pk):
        for method in (client.get, client.post):
            response = method(url)
            if response.status_code != 403:
                continue
            refused += 1
            html = response.content.decode()
            match = re.search(r'class="[^"]*refusal[^"]*">([^<]+)<', html)
            if match is None or not CHINESE.search(match.group(1)):
                bare.append((method.__name__, url))

    # then each refusal says why, in Chinese
    assert bare == []
    assert refused > 0


def test_a_refusal_names_the_state_and_the_action_in_chinese():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    from replenish.models import ArrearsCase

    case = go_bankrupt(ArrearsCase.objects.get())
    application = submitted_writeoff(case)
    auditor = department_user(DEPARTMENTS[2])

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        writeoff_approve(application_id=application.pk, actor=auditor)

    (message,) = refused.value.messages
    assert message == (
        f"核销申请 {application.writeoff_no} 为已提交，待征缴部门受理：该状态下不能批准。"
    )
    assert not re.search(r"[a-z_]{4,}", message)
