from django.contrib import admin

from accounts.forms import AdminLoginForm
from accounts.models import User

# The admin's log-in counts failed attempts with the site's and the API's (accounts.forms).
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "is_active", "email_confirmed_at", "date_joined"]
    list_filter = ["is_active", ("email_confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
