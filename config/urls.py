from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path, re_path

from accounts import views as accounts_views
from accounts.views import signup
from config.health import health
from contests import dashboard, views


def api_not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", views.home, name="home"),
    path("health", health, name="health"),
    path("api/v1/", include("api.urls")),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", signup, name="signup"),
    path(
        "accounts/confirm/resend/",
        accounts_views.confirmation_email_resend,
        name="confirmation-resend",
    ),
    path("accounts/confirm/<str:token>/", accounts_views.confirm_email, name="confirm-email"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(extra_email_context={"web_url": settings.WEB_URL}),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/contests/new/", dashboard.contest_new, name="contest-new"),
    path("dashboard/contests/<slug:slug>/", dashboard.contest_entries, name="dashboard-contest"),
    path(
        "dashboard/contests/<slug:slug>/states",
        dashboard.contest_entry_states,
        name="dashboard-contest-states",
    ),
    path("dashboard/contests/<slug:slug>/edit/", dashboard.contest_edit, name="contest-edit"),
    path("dashboard/contests/<slug:slug>/delete/", dashboard.contest_delete, name="contest-delete"),
    path(
        "dashboard/videos/<uuid:video_id>/visibility",
        dashboard.video_visibility,
        name="video-visibility",
    ),
    path(
        "dashboard/videos/<uuid:video_id>/original", dashboard.video_original, name="video-original"
    ),
]
if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", views.media, name="media"))
urlpatterns += [
    path("<slug:slug>/", views.contest_page, name="contest"),
    path("<slug:slug>/videos/<uuid:video_id>/", views.video_page, name="video"),
]
