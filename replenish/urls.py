from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "欠费补缴管理系统"
admin.site.site_title = "欠费补缴"
admin.site.index_title = "业务办理"
# The lists need the width of a 1440 px screen (issue 19); the index and the breadcrumbs lead
# everywhere the sidebar did.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("notices/", include("notices.urls")),
    path("portal/", include("portal.urls")),
    path("api/", include("api.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
