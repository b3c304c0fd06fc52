from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from replenish.health import HealthView

admin.site.site_header = "欠费补缴管理系统"
admin.site.site_title = "欠费补缴"
admin.site.index_title = "业务办理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("notices/", include("notices.urls")),
    path("portal/", include("portal.urls")),
    path("api/", include("api.urls")),
    path("health/", HealthView.as_view(), name="health"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
