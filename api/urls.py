from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from api import uploads, views

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
    path(
        "contests/<slug:slug>/videos/check",
        views.contest_video_check,
        name="api-contest-video-check",
    ),
    path("contests/<slug:slug>/uploads", uploads.contest_uploads, name="api-contest-uploads"),
    path("uploads/<str:upload_id>", uploads.upload_detail, name="api-upload"),
    path("uploads/<str:upload_id>/captions", uploads.upload_captions),
    path(
        "contests/<slug:slug>/direct-uploads",
        uploads.contest_direct_uploads,
        name="api-contest-direct-uploads",
    ),
    path("direct-uploads/<str:upload_id>", uploads.direct_upload_detail, name="api-direct-upload"),
    path("direct-uploads/<str:upload_id>/parts", uploads.direct_upload_parts),
    path("direct-uploads/<str:upload_id>/complete", uploads.direct_upload_complete),
    path("direct-uploads/<str:upload_id>/captions", uploads.direct_upload_captions),
    path("videos/<str:video_id>", views.video_detail, name="api-video"),
    path("videos/<str:video_id>/original", views.video_original, name="api-video-original"),
    path("videos/<str:video_id>/captions", views.video_captions, name="api-video-captions"),
]
