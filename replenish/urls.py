from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from replenish.documents_serving import document_view

admin.site.site_header = "欠费补缴管理系统"
admin.site.site_title = "欠费补缴"
admin.site.index_title = "业务办理"

handler403 = "replenish.refused.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("notices/", include("notices.urls")),
    path("portal/", include("portal.urls")),
    path("api/", include("api.urls")),
    path("documents/<slug:kind>/<int:pk>/", document_view, name="document"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
