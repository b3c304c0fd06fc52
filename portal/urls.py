from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path, reverse_lazy

from portal import credit_views, reset_views, views, writeoff_views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login")),
        name="logout",
    ),
    path(
        "password/",
        login_required(views.PasswordChangeView.as_view(), login_url="portal:login"),
        name="password_change",
    ),
    path(
        "password/done/",
        login_required(views.PasswordChangeDoneView.as_view(), login_url="portal:login"),
        name="password_change_done",
    ),
    path("password/reset/", reset_views.reset_request, name="password_reset"),
    path("password/reset/confirm/", reset_views.reset_confirm, name="password_reset_confirm"),
    path("employees/", views.employees, name="employees"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/document/", views.notice_document_html, name="notice_document"),
    path("notices/<int:pk>/document.pdf", views.notice_pdf, name="notice_pdf"),
    path("notices/<int:pk>/acknowledge/", views.notice_ack, name="notice_acknowledge"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/agreement.pdf", views.agreement_pdf, name="agreement_pdf"),
    path("agreements/<int:pk>/signed-scan/", views.agreement_scan, name="agreement_scan"),
    path("payments/", views.payment_list, name="payments"),
    path("payments/declare/", views.declare, name="declare"),
    path("writeoffs/apply/", views.writeoff_apply, name="writeoff_apply"),
    path("credit/", credit_views.credit, name="credit"),
    path(
        "credit/refunds/<int:pk>/withdraw/",
        credit_views.refund_withdraw_view,
        name="refund_withdraw",
    ),
    path("writeoffs/", writeoff_views.writeoff_list, name="writeoffs"),
    path(
        "writeoffs/<int:pk>/withdraw/",
        writeoff_views.writeoff_withdraw_view,
        name="writeoff_withdraw",
    ),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.inbox_message, name="message"),
]
