from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from operations.health import HealthView
from replenish.documents_serving import document_view

admin.site.site_header = "欠费补缴管理系统"
admin.site.site_title = "欠费补缴"
admin.site.index_title = "业务办理"
# The lists need the width of a 1440 px screen (issue 19); the index and the breadcrumbs lead
# everywhere the sidebar did.
admin.site.enable_nav_sidebar = False

handler403 = "replenish.refused.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("notices/", include("notices.urls")),
    path("enforcement/", include("enforcement.urls")),
    path("portal/", include("portal.urls")),
    path("api/", include("api.urls")),
    path("documents/<slug:kind>/<int:pk>/", document_view, name="document"),
    # The language switch of the portal (and anywhere else): POST language=zh-hans|en.
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", HealthView.as_view(), name="health"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
