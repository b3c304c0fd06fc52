from django.urls import path

from notices import views

app_name = "notices"
urlpatterns = [
    path("<int:pk>/document/", views.notice_html, name="notice_html"),
    path("<int:pk>/document.pdf", views.notice_pdf, name="notice_pdf"),
]
