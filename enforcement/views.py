"""An enforcement document for staff: HTML to read or print, PDF to download or send."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from enforcement.documents import enforcement_document
from enforcement.models import EnforcementDocument
from notices.documents import html_render, pdf_render


def _language(request) -> str:
    requested = request.GET.get("lang", "")
    return requested if requested in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@staff_member_required
@permission_required("enforcement.view_enforcementdocument", raise_exception=True)
def document_html(request, pk: int):
    document = get_object_or_404(EnforcementDocument, pk=pk)
    return HttpResponse(html_render(enforcement_document(document, language=_language(request))))


@staff_member_required
@permission_required("enforcement.view_enforcementdocument", raise_exception=True)
def document_pdf(request, pk: int):
    document = get_object_or_404(EnforcementDocument, pk=pk)
    pdf = pdf_render(enforcement_document(document, language=_language(request)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.number}.pdf"'
    return response
