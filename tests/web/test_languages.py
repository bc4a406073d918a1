"""Spanish and English: chosen from the browser, switched on every page, kept in the emails."""

from datetime import UTC

import pytest
from django.test import Client

from tests.web.helpers import make_contest
from videos import services
from videos.models import Video


@pytest.fixture
def spanish() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")


def test_pages_follow_the_browser_language(spanish, client, contest):
    assert "Participa en el concurso" in spanish.get("/summer-shorts/").content.decode()
    assert "Enter the contest" in client.get("/summer-shorts/").content.decode()
    assert '<html lang="es">' in spanish.get("/").content.decode()


def test_every_page_has_a_language_switch_that_sticks(client, contest):
    page = client.get("/summer-shorts/").content.decode()
    assert 'name="language" value="es"' in page
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/summer-shorts/"})
    assert response.status_code == 302 and response["Location"] == "/summer-shorts/"
    assert "Participa en el concurso" in client.get("/summer-shorts/").content.decode()
    assert "Mis concursos" not in client.get("/").content.decode()  # logged out: no dashboard
    assert "Iniciar sesión" in client.get("/").content.decode()


def test_dates_and_numbers_follow_the_language(spanish, client, alice):
    from datetime import datetime

    make_contest(
        alice,
        "fiesta",
        starts_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        ends_at=datetime(2030, 1, 5, 10, 0, tzinfo=UTC),
    )
    assert "5 de enero de 2026" in spanish.get("/fiesta/").content.decode()
    assert "Jan. 5, 2026" in client.get("/fiesta/").content.decode()


def test_api_errors_speak_the_language(contest, clips):
    api = Client(HTTP_ACCEPT_LANGUAGE="es")
    with open(clips["text"], "rb") as handle:
        response = api.post(
            "/api/v1/contests/summer-shorts/videos",
            {"first_name": "A", "last_name": "B", "email": "a@example.com", "file": handle},
        )
    assert response.status_code == 415
    assert response.json()["detail"].startswith(("Este tipo de archivo", "No pudimos leer"))


def test_an_entry_from_the_spanish_page_gets_spanish_emails(spanish, contest, clips, mailoutbox):
    with open(clips[".avi"], "rb") as handle:
        spanish.post(
            "/summer-shorts/",
            {"first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com", "file": handle},
        )
    video = Video.objects.get()
    assert video.language == "es"
    services.video_convert(video_id=video.id)
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    assert email.subject == "Tu video para «Summer shorts» está listo"
    assert "Hola, Ana:" in email.body and "¡Mucha suerte!" in email.body


def test_a_failure_reason_is_emailed_in_the_participant_language(contest, clips, mailoutbox):
    from tests.test_video_jobs import stored_video

    video = stored_video(contest, clips["damaged"], language="es")
    services.video_convert(video_id=video.id)
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    assert email.subject.startswith("No pudimos convertir tu video")
    assert "Motivo: No pudimos convertir el video." in email.body


def test_the_failure_reason_is_translated_on_the_dashboard(contest, alice):
    from videos import reasons

    Video.objects.create(
        contest=contest, first_name="A", last_name="B", email="a@example.com",
        original="originals/a.avi", status="failed", failure_reason=reasons.TRANSCODING[2],
    )  # fmt: skip
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(alice)
    page = client.get("/dashboard/contests/summer-shorts/").content.decode()
    assert "El archivo no tiene video" in page and "Falló" in page


def test_every_transcoding_reason_has_a_translation():
    """The pipeline's sentences (it knows nothing of Django) are all in the catalog."""
    import importlib

    from django.utils import translation

    from videos import reasons

    modules = [
        importlib.import_module(f"transcoding.{name}") for name in ("probe", "isolated", "run")
    ]
    sentences = [
        value
        for module in map(vars, modules)
        for name, value in module.items()
        if name.isupper() and isinstance(value, str) and value.endswith(".")
    ]
    assert len(sentences) >= 6
    with translation.override("es"):
        for sentence in sentences:
            assert sentence in reasons.TRANSCODING, sentence
            assert translation.gettext(sentence) != sentence, sentence
