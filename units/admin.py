from django.contrib import admin

from units.models import InsuredPerson, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["uscc", "name", "region_code", "status"]
    list_filter = ["status"]
    search_fields = ["=uscc", "name"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    list_display = ["masked_id_number", "name"]
    # Exact match only: a partial ID number must not find people.
    search_fields = ["=id_number", "name"]
    fields = ["name", "masked_id_number"]
    readonly_fields = ["masked_id_number"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
