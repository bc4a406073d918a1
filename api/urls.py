from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from api import views

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="api-schema"),
    path("organizers", views.organizers, name="api-organizers"),
    path("organizers/confirm", views.organizer_confirm, name="api-organizer-confirm"),
    path(
        "organizers/confirmation-email",
        views.organizer_confirmation_email,
        name="api-organizer-confirmation-email",
    ),
    path("auth/token", views.auth_token, name="api-token"),
    path("contests", views.contests, name="api-contests"),
    path("contests/<slug:slug>", views.contest_detail, name="api-contest"),
    path("contests/<slug:slug>/videos", views.contest_videos, name="api-contest-videos"),
    path("videos/<str:video_id>", views.video_detail, name="api-video"),
    path("videos/<str:video_id>/original", views.video_original, name="api-video-original"),
]
