"""Quotas and rate limits on entries: the API and the page refuse alike, 429 and Retry-After."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.media import entry_fields as entry
from tests.web.helpers import entry_form
from videos.models import Video


def upload(api, contest, path, **fields):
    return api.post(f"/api/v1/contests/{contest.slug}/videos", entry(path, **fields))


def test_one_email_gets_the_contests_entry_limit_and_then_429(api, contest, clips):
    contest.max_entries_per_email = 2
    contest.save()
    for _ in range(2):
        assert upload(api, contest, clips[".avi"]).status_code == 202
    refused = upload(api, contest, clips[".avi"], email="ANA+again@Example.com")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "already entered 2 videos" in refused.json()["detail"]
    assert refused.json()["errors"] == {"email": [refused.json()["detail"]]}
    assert Video.objects.count() == 2


def test_another_email_is_not_held_by_the_limit(api, contest, clips):
    contest.max_entries_per_email = 1
    contest.save()
    assert upload(api, contest, clips[".avi"]).status_code == 202
    assert upload(api, contest, clips[".avi"], email="bea@example.com").status_code == 202


def test_failed_entries_do_not_count_against_the_participant(api, contest, clips):
    contest.max_entries_per_email = 1
    contest.save()
    assert upload(api, contest, clips[".avi"]).status_code == 202
    Video.objects.update(status=Video.Status.FAILED)
    assert upload(api, contest, clips[".avi"]).status_code == 202


def test_the_page_form_refuses_with_the_same_limit_and_429(client, contest, clips):
    contest.max_entries_per_email = 1
    contest.save()
    assert client.post("/summer-shorts/", entry_form(clips[".avi"])).status_code == 302
    refused = client.post("/summer-shorts/", entry_form(clips[".avi"]))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert list(refused.context["form"].errors) == ["email"]
    assert Video.objects.count() == 1


def test_a_contest_over_its_storage_quota_refuses_more(api, contest, clips, settings):
    settings.CONTEST_STORAGE_BYTES = clips[".avi"].stat().st_size * 2
    assert upload(api, contest, clips[".avi"], email="a@example.com").status_code == 202
    assert upload(api, contest, clips[".avi"], email="b@example.com").status_code == 202
    refused = upload(api, contest, clips[".avi"], email="c@example.com")
    assert refused.status_code == 429
    assert "all the video it can store" in refused.json()["detail"]


def test_uploads_per_network_are_limited_per_hour(api, contest, clips, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 3
    for n in range(3):
        assert upload(api, contest, clips[".avi"], email=f"p{n}@example.com").status_code == 202
    refused = upload(api, contest, clips[".avi"], email="p9@example.com")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "at most 3 an hour" in refused.json()["detail"]
    # Another network is not affected.
    other = api.post(
        f"/api/v1/contests/{contest.slug}/videos",
        entry(clips[".avi"], email="q@example.com"),
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 202


def test_a_forged_forwarded_header_does_not_change_the_network(api, contest, clips, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 1
    assert upload(api, contest, clips[".avi"]).status_code == 202
    forged = api.post(
        f"/api/v1/contests/{contest.slug}/videos",
        entry(clips[".avi"], email="x@example.com"),
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert forged.status_code == 429


def test_an_ipv6_client_is_counted_per_64(api, contest, clips, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 1
    first = "2001:db8:1:2::10"
    same_line = "2001:db8:1:2:ffff::99"
    assert upload_from(api, contest, clips, first, "a@example.com").status_code == 202
    assert upload_from(api, contest, clips, same_line, "b@example.com").status_code == 429


def upload_from(api, contest, clips, address, email):
    return api.post(
        f"/api/v1/contests/{contest.slug}/videos",
        entry(clips[".avi"], email=email),
        REMOTE_ADDR=address,
    )


def test_the_defaults_let_a_class_of_60_upload_from_one_school_network(api, contest, clips):
    # Every student sends a file that is refused (not a video), then the right one.
    for n in range(60):
        fields = {"email": f"student{n}@school.example"}
        refused = upload(api, contest, clips["text"], **fields)
        assert refused.status_code == 415
        accepted = upload(api, contest, clips[".avi"], **fields)
        assert accepted.status_code == 202, (n, accepted.json())
    assert Video.objects.count() == 60


def test_the_page_form_shares_the_per_network_limit(client, api, contest, clips, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 1
    assert upload(api, contest, clips[".avi"]).status_code == 202
    refused = client.post("/summer-shorts/", entry_form(clips[".avi"], email="z@example.com"))
    assert refused.status_code == 429
    assert "at most 1 an hour" in refused.content.decode()


def test_refusals_speak_the_participants_language(api, contest, clips, settings):
    settings.UPLOADS_PER_ADDRESS_HOUR = 0
    refused = api.post(
        f"/api/v1/contests/{contest.slug}/videos",
        entry(clips[".avi"]),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert refused.status_code == 429
    assert "subidas" in refused.json()["detail"].lower()


@pytest.mark.parametrize(
    "field, value",
    [
        ("first_name", "Ana\r\nBcc: victim@example.com"),
        ("last_name", "Diaz\x00"),
        ("message", "hello \x1b[31m"),
        ("message", "evil \u202egnp.exe"),
    ],
)
def test_control_characters_are_refused_in_entries(api, client, contest, clips, field, value):
    refused = upload(api, contest, clips[".avi"], **{field: value})
    assert refused.status_code == 400
    assert field in refused.json()["errors"]
    page = client.post("/summer-shorts/", entry_form(clips[".avi"], **{field: value}))
    assert list(page.context["form"].errors) == [field]
    assert not Video.objects.exists()


def test_a_message_may_have_line_breaks(api, contest, clips):
    assert upload(api, contest, clips[".avi"], message="Line one\nLine two").status_code == 202


def test_an_unconfirmed_organizers_contest_takes_no_entries(api, contest, clips):
    contest.owner.email_confirmed_at = None
    contest.owner.save()
    refused = upload(api, contest, clips[".avi"])
    assert refused.status_code == 409
    assert "confirmed" in refused.json()["detail"]
    contest.owner.email_confirmed_at = timezone.now() - timedelta(minutes=1)
    contest.owner.save()
    assert upload(api, contest, clips[".avi"]).status_code == 202


def test_a_file_over_a_media_limit_is_refused_naming_the_limit(api, client, contest, tmp_path):
    from tests import bombs

    canvas = bombs.gif_canvas(tmp_path / "canvas.gif")
    refused = api.post(
        f"/api/v1/contests/{contest.slug}/videos", entry(canvas), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert refused.status_code == 422
    assert refused.json()["errors"]["file"] == [
        "La imagen mide 16000 píxeles de ancho o de alto; lo máximo que se acepta es 4096."
    ]
    page = client.post("/summer-shorts/", entry_form(canvas))
    assert "16000 pixels wide or high; the most accepted is 4096" in page.content.decode()
    assert not Video.objects.exists()


def test_the_media_limits_are_configurable(api, contest, clips, settings):
    settings.MAX_DURATION_SECONDS = 0.5  # the clips last a second
    refused = api.post(f"/api/v1/contests/{contest.slug}/videos", entry(clips[".avi"]))
    assert refused.status_code == 422
    assert "the longest accepted is 0:01" in refused.json()["detail"]
