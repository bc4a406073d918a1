"""POST /contests/<slug>/videos/check: an entry's fields judged before its video is sent."""

from datetime import timedelta

from django.utils import timezone

from tests.web.helpers import ready_video
from videos.models import Video, mailbox_key


def fields(**changes) -> dict:
    data = {
        "first_name": "Ana",
        "last_name": "Diaz",
        "email": "ana@example.com",
        "message": "Hola!",
        "file_name": "holiday.mp4",
        "file_size": 5_000_000,
        "file_type": "video/mp4",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def check(api, contest, **changes):
    url = f"/api/v1/contests/{contest.slug}/videos/check"
    return api.post(url, fields(**changes), format="json")


def test_good_fields_are_ready_to_send_and_nothing_is_stored(api, contest):
    response = check(api, contest)
    assert response.status_code == 200, response.json()
    assert response.json()["detail"]
    assert not Video.objects.exists()


def test_it_names_every_refused_field_at_once(api, contest):
    response = check(api, contest, first_name=" ", last_name=None, email="nope",
                     message="Ana\x1b[31m", file_size=None)  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"first_name", "last_name", "email", "message", "file"}
    assert errors["email"] == ["Enter a valid email address."]
    assert response.json()["detail"].startswith("first_name: ")


def test_it_refuses_a_file_over_the_size_limit(api, contest, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = check(api, contest, file_size=1001, email="nope")
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == ["The file is larger than 0 MB."]
    assert "email" in response.json()["errors"]


def test_it_counts_the_participants_entries(api, contest):
    contest.max_entries_per_email = 1
    contest.save()
    ready_video(contest, email="ana@example.com", email_key=mailbox_key("ana@example.com"))
    response = check(api, contest)
    assert response.status_code == 400
    assert "already entered 1 video" in response.json()["errors"]["email"][0]
    assert check(api, contest, email="bea@example.com").status_code == 200


def test_it_counts_the_contests_storage(api, contest, settings):
    settings.CONTEST_STORAGE_BYTES = 4_000_000
    response = check(api, contest)
    assert response.status_code == 400
    assert "all the video it can store" in response.json()["errors"]["file"][0]


def test_a_closed_contest_is_409(api, contest):
    contest.ends_at = timezone.now() - timedelta(minutes=1)
    contest.save()
    response = check(api, contest)
    assert response.status_code == 409
    assert "closed on" in response.json()["detail"]


def test_captions_are_checked_before_the_video(api, contest, tmp_path):
    bad = tmp_path / "bad.vtt"
    bad.write_bytes(b"\xff\xfe not text")
    with bad.open("rb") as captions:
        data = fields(captions=captions, captions_language="en")
        response = api.post(f"/api/v1/contests/{contest.slug}/videos/check", data)
    assert response.status_code == 400
    assert response.json()["errors"]["captions"] == ["The captions file is not UTF-8 text."]


def test_it_answers_in_the_participants_language(api, contest):
    url = f"/api/v1/contests/{contest.slug}/videos/check"
    response = api.post(url, fields(email="nope"), format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert response.json()["errors"]["email"] == ["Escribe un correo electrónico válido."]


def test_an_unknown_contest_is_404(api, db):
    assert (
        api.post("/api/v1/contests/nope/videos/check", fields(), format="json").status_code == 404
    )
