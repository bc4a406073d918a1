"""The participant's emails as mail clients show them: a plain-text part and an HTML part (the
poster, a button to the video; or why it failed and a button to try again), in the language of
the page the participant used. Real conversions, real files."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.test_video_jobs import stored_video
from videos import services

WEB_URL = "http://localhost:8080"


class Parsed(HTMLParser):
    """The tags of an email's HTML part, with their attributes, and its text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def sent(mailoutbox, video) -> tuple:
    services.participant_notify(video_id=video.id)
    (email,) = mailoutbox
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html"
    return email, Parsed(html)


def ready_entry(contest, clips, **fields):
    video = stored_video(contest, clips[".avi"], **fields)
    services.video_convert(video_id=video.id)
    video.refresh_from_db()
    return video


def test_the_ready_email_shows_the_poster_and_a_button_to_the_video(contest, clips, mailoutbox):
    video = ready_entry(contest, clips)
    email, html = sent(mailoutbox, video)
    link = f"{WEB_URL}/summer-shorts/videos/{video.id}/"
    assert link in email.body  # the plain part, as before
    message = email.message()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == [
        "text/plain",
        "text/html",
    ]
    assert message["Message-ID"] == email.extra_headers["Message-ID"]

    assert html.all("html") == [{"lang": "en"}]
    (image,) = html.all("img")
    assert image["alt"] == "Poster of Ana Diaz's video"
    assert image["src"].startswith(f"{WEB_URL}/media/")
    # The picture is a public file anyone's mail client can fetch.
    assert Client().get(image["src"].removeprefix(WEB_URL)).status_code == 200
    (button,) = [a for a in html.all("a") if a.get("class") == "button"]
    assert button["href"] == link
    assert {a["href"] for a in html.all("a")} == {link}  # the picture links there too
    assert "Watch your video" in html.text
    assert "Hello Ana," in html.text and "Good luck!" in html.text


def test_the_ready_email_of_a_hidden_entry_has_no_picture(contest, clips, mailoutbox):
    video = ready_entry(contest, clips)
    services.video_set_hidden(video=video, hidden=True)
    email, html = sent(mailoutbox, video)
    assert html.all("img") == []
    assert "/media/" not in email.alternatives[0][0]
    assert [a["href"] for a in html.all("a")] == [f"{WEB_URL}/summer-shorts/videos/{video.id}/"]


def test_the_ready_email_in_spanish(contest, clips, mailoutbox):
    video = ready_entry(contest, clips, language="es")
    email, html = sent(mailoutbox, video)
    assert html.all("html") == [{"lang": "es"}]
    assert html.all("img")[0]["alt"] == "Póster del video de Ana Diaz"
    assert "Hola, Ana:" in html.text and "¡Mucha suerte!" in html.text
    assert "Hola, Ana:" in email.body


@pytest.mark.parametrize(
    ("language", "hello", "reason"),
    [("en", "Hello Ana,", "Reason:"), ("es", "Hola, Ana:", "Motivo:")],
)
def test_the_failed_email_says_why_and_leads_back_to_the_contest(
    contest, clips, mailoutbox, language, hello, reason
):
    video = stored_video(contest, clips["damaged"], language=language)
    services.video_convert(video_id=video.id)
    email, html = sent(mailoutbox, video)
    assert html.all("html") == [{"lang": language}]
    assert hello in html.text and reason in html.text
    assert html.all("img") == []
    (button,) = [a for a in html.all("a") if a.get("class") == "button"]
    assert button["href"] == f"{WEB_URL}/summer-shorts/"
    # The reason, as the plain part gives it, in the participant's language.
    said = email.body.split(reason, 1)[1].strip().splitlines()[0]
    assert said and said in html.text


def test_names_in_the_html_part_are_escaped(contest, clips, mailoutbox):
    contest.name = "<b>Summer</b> & shorts"
    contest.save()
    video = ready_entry(contest, clips)
    email, html = sent(mailoutbox, video)
    assert "<b>" not in email.alternatives[0][0]
    assert "&lt;b&gt;Summer&lt;/b&gt; &amp; shorts" in email.alternatives[0][0]
    assert html.all("b") == []
