from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import credit, records, views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("unit/balance/", views.BalanceView.as_view(), name="balance"),
    path("unit/notices/", views.NoticeListView.as_view(), name="notices"),
    path("unit/notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice"),
    path("unit/agreements/", views.AgreementListView.as_view(), name="agreements"),
    path("unit/agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement"),
    path("unit/payments/", views.PaymentListView.as_view(), name="payments"),
    path("unit/arrivals/", views.ArrivalListView.as_view(), name="arrivals"),
    path("unit/messages/", views.MessageListView.as_view(), name="messages"),
    path("unit/credit/", credit.CreditView.as_view(), name="credit"),
    path(
        "finance/refunds/<str:refund_no>/paid/",
        credit.RefundPaidView.as_view(),
        name="refund_paid",
    ),
    path("finance/arrivals/", views.ArrivalPostView.as_view(), name="arrival_post"),
    path("finance/arrivals/unmatched/", views.UnmatchedArrivalsView.as_view(), name="unmatched"),
    path("core/paid-months/", records.PaidMonthBatchListView.as_view(), name="paid_months"),
    path(
        "core/paid-months/<int:number>/",
        records.PaidMonthBatchFileView.as_view(),
        name="paid_month_batch",
    ),
    path("person/months/", records.PersonInquiryView.as_view(), name="person_months"),
    # Anything else under /api/ (an unknown path, an id that is not a number) is a JSON 404.
    re_path(r"^.*$", views.not_found, name="not_found"),
]
