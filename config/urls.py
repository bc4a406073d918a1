from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from accounts import views as accounts_views
from accounts.views import signup
from api import errors as api_errors
from config.health import health
from contests import dashboard, views

# Under /api/ every error is JSON, whatever raised it; elsewhere Django's pages.
handler400 = api_errors.bad_request
handler403 = api_errors.permission_denied
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error

urlpatterns = [
    path("", views.home, name="home"),
    path("health", health, name="health"),
    path("api/v1/", include("api.urls")),
    re_path(r"^api/", api_errors.api_not_found),  # any method: a JSON 404, never a CSRF page
    path("admin/login/", accounts_views.admin_login),  # the admin's, with the log-in limits
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/signup/done/", accounts_views.signup_done, name="signup-done"),
    path(
        "accounts/confirm/resend/",
        accounts_views.confirmation_email_resend,
        name="confirmation-resend",
    ),
    path("accounts/confirm/<str:token>/", accounts_views.confirm_email, name="confirm-email"),
    path("accounts/login/", accounts_views.login, name="login"),
    path("accounts/password_reset/", accounts_views.password_reset, name="password_reset"),
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
    path(
        "<slug:slug>/videos/<uuid:video_id>/captions.vtt",
        views.video_captions,
        name="video-captions",
    ),
]
