from django.contrib import admin

from videos.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["id", "contest", "first_name", "last_name", "status", "hidden", "created_at"]
    list_filter = ["status", "hidden"]
    search_fields = ["first_name", "last_name", "email"]
