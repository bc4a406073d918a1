from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "is_active", "email_confirmed_at", "date_joined"]
    list_filter = ["is_active", ("email_confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
