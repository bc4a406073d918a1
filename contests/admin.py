from django.contrib import admin

from contests.models import Contest


@admin.register(Contest)
class ContestAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "starts_at", "ends_at"]
    search_fields = ["name", "slug"]
