from django.urls import path

from enforcement import views

app_name = "enforcement"
urlpatterns = [
    path("documents/<int:pk>/", views.document_html, name="document_html"),
    path("documents/<int:pk>.pdf", views.document_pdf, name="document_pdf"),
]
