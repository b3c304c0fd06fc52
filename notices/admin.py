from django.contrib import admin

from notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["number", "case", "state", "issued_on", "deadline", "total"]
    list_filter = ["state", "region_code", "year"]
    search_fields = ["=number", "=case__case_no", "=case__unit__uscc"]
    list_select_related = ["case"]
    readonly_fields = [
        "number",
        "case",
        "state",
        "issued_on",
        "deadline",
        "principal",
        "late_fee",
        "total",
        "snapshot",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
