"""The notice as a document, for staff: HTML to read or print, PDF to download."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.clickjacking import xframe_options_sameorigin

from notices.documents import html_render, notice_documents, notice_pdf_bytes
from notices.models import Notice


def _language(request) -> str:
    requested = request.GET.get("lang", "")
    return requested if requested in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@xframe_options_sameorigin  # shown inside the notice's admin page
@staff_member_required
@permission_required("notices.view_notice", raise_exception=True)
def notice_html(request, pk: int):
    notice = get_object_or_404(Notice, pk=pk)
    return HttpResponse(html_render(*notice_documents(notice, language=_language(request))))


@staff_member_required
@permission_required("notices.view_notice", raise_exception=True)
def notice_pdf(request, pk: int):
    notice = get_object_or_404(Notice, pk=pk)
    pdf = notice_pdf_bytes(notice, language=_language(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return response
