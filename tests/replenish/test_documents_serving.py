"""Stored documents are opened through one view that checks who asks; they are stored under names
nobody can guess, only once valid, and no file outlives a refusal or a failure."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.documents_serving import document_url
from replenish.models import Agreement, ArrearsCase, WriteOffDocument
from replenish.services.agreements import agreement_draft, agreement_scan_attach, agreement_sign
from replenish.services.writeoff import Upload, writeoff_resubmit, writeoff_submit
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UserFactory,
    all_table_counts,
    arrears_csv_text,
    department_user,
    go_bankrupt,
    import_rows,
    portal_user,
    submitted_writeoff,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% the ruling\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCUMENTS_SERVED_BY = ""
    return settings.MEDIA_ROOT


def stored_files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


@pytest.fixture
def bankrupt_case():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2)])
    return go_bankrupt(ArrearsCase.objects.get(unit__name="单位1有限公司"))


@pytest.fixture
def ruling(bankrupt_case) -> WriteOffDocument:
    application = writeoff_submit(
        case_id=bankrupt_case.pk,
        documents=[Upload(kind="bankruptcy_ruling", file=ContentFile(PDF, name="裁定书.pdf"))],
        actor=SYSTEM,
    )
    return application.documents.get()


def test_a_stored_document_has_a_name_nobody_can_guess(ruling):
    assert re.fullmatch(r"writeoffs/[0-9a-f]{32}\.pdf", ruling.file.name)


@pytest.mark.parametrize("department", [AUDIT, COLLECTION, FINANCE])
def test_staff_of_the_departments_that_see_write_offs_open_the_document(client, ruling, department):
    # given
    client.force_login(department_user(department))

    # when
    response = client.get(document_url("writeoff-document", ruling))

    # then
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline;")


def test_staff_without_the_view_permission_get_a_404(client, ruling):
    client.force_login(UserFactory(permissions=["replenish.view_arrearscase"]))
    assert client.get(document_url("writeoff-document", ruling)).status_code == 404


def test_nobody_signed_in_is_sent_to_log_in(client, ruling):
    response = client.get(document_url("writeoff-document", ruling))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_liquidation_group_opens_its_own_documents_and_no_other_member_does(
    client, ruling, bankrupt_case
):
    # given the group's portal user, and the user of another unit
    group_user = portal_user("group", counterparty=bankrupt_case.obligor)
    other = portal_user("other", unit=ArrearsCase.objects.get(unit__name="单位2有限公司").unit)
    url = document_url("writeoff-document", ruling)

    # then
    client.force_login(group_user)
    assert client.get(url).status_code == 200
    client.force_login(other)
    assert client.get(url).status_code == 404


def test_an_unknown_kind_or_id_is_a_404(client, ruling):
    client.force_login(department_user(AUDIT))
    assert client.get(f"/documents/nothing/{ruling.pk}/").status_code == 404
    assert client.get(f"/documents/writeoff-document/{ruling.pk + 100}/").status_code == 404


def test_the_proxy_serves_the_file_after_the_check_with_x_accel_redirect(client, ruling, settings):
    settings.DOCUMENTS_SERVED_BY = "x-accel-redirect"
    settings.DOCUMENTS_INTERNAL_URL = "/protected-media/"
    client.force_login(department_user(AUDIT))

    response = client.get(document_url("writeoff-document", ruling))

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{ruling.file.name}"
    assert response.content == b""


def test_the_proxy_serves_the_file_after_the_check_with_x_sendfile(client, ruling, settings):
    settings.DOCUMENTS_SERVED_BY = "x-sendfile"
    client.force_login(department_user(AUDIT))

    response = client.get(document_url("writeoff-document", ruling))

    assert response["X-Sendfile"] == ruling.file.path
    assert response.content == b""


def test_the_application_page_links_the_documents_to_the_checked_view(client, ruling):
    client.force_login(department_user(AUDIT))
    page = client.get(
        reverse("admin:replenish_writeoffapplication_change", args=[ruling.application_id])
    ).content.decode()
    assert document_url("writeoff-document", ruling) in page
    assert ruling.file.name not in page


def test_an_agreement_scan_is_opened_by_staff_and_by_the_unit(client, settings):
    # given a signed agreement of unit 1 with its scan
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2)])
    case = ArrearsCase.objects.get(unit__name="单位1有限公司")
    officer = UserFactory(permissions=["replenish.view_agreement", "replenish.sign_agreement"])
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)
    agreement_sign(agreement_id=draft.pk, actor=officer)
    agreement = agreement_scan_attach(
        agreement_id=draft.pk, file=ContentFile(PDF, name="scan.pdf"), actor=officer
    )
    url = document_url("agreement-scan", agreement)

    # then
    client.force_login(officer)
    assert client.get(url).status_code == 200
    client.force_login(portal_user("unit1", unit=case.unit))
    assert client.get(url).status_code == 200
    client.force_login(
        portal_user("unit2", unit=ArrearsCase.objects.get(unit__name="单位2有限公司").unit)
    )
    assert client.get(url).status_code == 404


# --- nothing stored before it is valid, nothing left by a failure --------------------------------


def test_a_write_off_document_of_html_named_pdf_is_refused_and_nothing_is_stored(
    bankrupt_case, media
):
    before = all_table_counts()

    with pytest.raises(ValidationError) as refusal:
        writeoff_submit(
            case_id=bankrupt_case.pk,
            documents=[
                Upload(kind="bankruptcy_ruling", file=ContentFile(PDF, name="ruling.pdf")),
                Upload(
                    kind="liquidation_report",
                    file=ContentFile(b"<html><script>alert(1)</script>", name="report.pdf"),
                ),
            ],
            actor=SYSTEM,
        )

    assert refusal.value.messages == [
        "report.pdf is not a PDF file: its content does not match its name."
    ]
    assert all_table_counts() == before
    assert stored_files(media) == []


def test_a_write_off_document_of_a_forbidden_type_leaves_no_file(bankrupt_case, media):
    with pytest.raises(ValidationError):
        writeoff_submit(
            case_id=bankrupt_case.pk,
            documents=[Upload(kind="bankruptcy_ruling", file=ContentFile(b"MZ", name="r.exe"))],
            actor=SYSTEM,
        )
    assert stored_files(media) == []


def test_documents_stored_by_a_change_that_then_fails_are_removed(bankrupt_case, media):
    # given an application just submitted (not returned: it cannot be resubmitted)
    application = submitted_writeoff(bankrupt_case, kinds=["bankruptcy_ruling"])
    kept = stored_files(media)
    before = all_table_counts()

    # when the group resubmits it with one more document
    with pytest.raises(ValidationError):
        writeoff_resubmit(
            application_id=application.pk,
            documents=[Upload(kind="liquidation_report", file=ContentFile(PDF, name="r.pdf"))],
            actor=SYSTEM,
        )

    # then the document stored before the refusal is gone again
    assert stored_files(media) == kept
    assert all_table_counts() == before


def test_a_scan_of_html_named_pdf_is_refused_and_nothing_is_stored(media):
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    officer = UserFactory(permissions=["replenish.sign_agreement"])
    draft = agreement_draft(
        case_id=ArrearsCase.objects.get().pk, installment_count=3, actor=officer
    )
    agreement_sign(agreement_id=draft.pk, actor=officer)

    with pytest.raises(ValidationError):
        agreement_scan_attach(
            agreement_id=draft.pk, file=ContentFile(b"<html>", name="scan.pdf"), actor=officer
        )

    assert Agreement.objects.get().scan.name == ""
    assert stored_files(media) == []


def test_a_document_larger_than_the_limit_is_refused(bankrupt_case, media, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as refusal:
        writeoff_submit(
            case_id=bankrupt_case.pk,
            documents=[
                Upload(kind="bankruptcy_ruling", file=ContentFile(PDF + b"0" * 2000, name="r.pdf"))
            ],
            actor=SYSTEM,
        )
    assert refusal.value.messages == ["r.pdf is larger than 1.0\xa0KB."]
    assert stored_files(media) == []


@pytest.mark.parametrize("view", ["replenish_arrearscase_import", "replenish_arrival_import"])
def test_a_rejected_import_leaves_nothing_under_media_root(client, media, view):
    # given a file with a full citizen ID number and a bad row
    client.force_login(department_user(COLLECTION if "arrears" in view else FINANCE))
    text = arrears_csv_text([ArrearsRowFactory(unit_no=1, person_no=1, due_date="20260115")])

    # when it is uploaded
    response = client.post(
        reverse(f"admin:{view}"), {"file": SimpleUploadedFile("a.csv", text.encode())}
    )

    # then it is refused, and not kept
    assert response.status_code == 200
    assert stored_files(media) == []


def test_an_import_file_larger_than_the_limit_is_refused_before_it_is_read(client, media, settings):
    settings.IMPORT_FILE_MAX_BYTES = 100
    client.force_login(department_user(COLLECTION))
    text = arrears_csv_text([ArrearsRowFactory(unit_no=1, person_no=1)])

    response = client.post(
        reverse("admin:replenish_arrearscase_import"),
        {"file": SimpleUploadedFile("a.csv", text.encode())},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "The file is larger than" in response.content.decode()
    assert not ArrearsCase.objects.exists()
    assert stored_files(media) == []
