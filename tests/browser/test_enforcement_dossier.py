"""The enforcement dossier as a collection clerk sees it in the browser (1440×900): the queue,
the dossier's page with its facts and documents; screenshots in var/screenshots/."""

from pathlib import Path

import pytest

from enforcement.models import Dossier
from tests.enforcement.helpers import Staff, dossier_at, overdue_case

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_the_clerk_opens_the_queue_and_reads_a_dossier(live_server, login, page):
    # given a case waiting in the queue and a dossier whose transfer request waits for approval
    overdue_case(2)
    staff = Staff()
    dossier = dossier_at("transfer_proposed", staff)
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)

    # when the chief of collection logs in and opens the queue
    login("chief", "pw-for-tests")
    page.goto(f"{live_server.url}/admin/enforcement/dossier/queue/")

    # then the waiting case is there with its button
    assert "单位2有限公司" in page.locator("#queue").inner_text()
    page.screenshot(path=str(SHOTS / "enforcement-queue.png"))

    # when the chief opens the dossier
    page.goto(f"{live_server.url}/admin/enforcement/dossier/{dossier.pk}/change/")

    # then its page shows the facts and the documents
    content = page.locator("#content").inner_text()
    assert "划拨申请待复核" in content and "催告书" in content and "clerk" in content
    page.screenshot(path=str(SHOTS / "enforcement-dossier.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "enforcement-dossier-1440x900.png"))
    assert Dossier.objects.count() == 1
