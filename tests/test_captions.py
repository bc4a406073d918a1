"""Captions: an SRT or WebVTT file checked and stored as WebVTT (videos.captions), set by the
contest's organizer (API and entries page) or sent with an entry, and served as the <track> of
the entry's page. Alice organizes the contest, Bob is another organizer."""

import io

import pytest
import webvtt
from django.core.exceptions import ValidationError
from django.test import Client

from tests.media import entry_fields
from tests.web.helpers import ready_video
from videos.captions import MAX_BYTES, captions_check, captions_to_webvtt
from videos.models import Video

SRT = (
    "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello, <i>world</i>!\r\n\r\n"
    "2\r\n00:01:03,250 --> 00:01:04,000\r\nTom & Jerry\r\nsecond line\r\n"
)
VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:02.500\nHello, <i>world</i>!\n\n"
    "00:01:03.250 --> 00:01:04.000 line:0 align:start\n<v Ana>Tom &amp; Jerry</v>\n"
)


def refusal(content: bytes) -> str:
    with pytest.raises(ValidationError) as refused:
        captions_to_webvtt(content)
    return refused.value.messages[0]


def upload(text: str, name: str = "captions.srt") -> io.BytesIO:
    file = io.BytesIO(text.encode())
    file.name = name
    return file


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------- the file


def test_srt_becomes_webvtt_with_dots_in_its_times_and_its_text_kept():
    assert captions_to_webvtt(SRT.encode()) == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.500\nHello, <i>world</i>!\n\n"
        "00:01:03.250 --> 00:01:04.000\nTom &amp; Jerry\nsecond line\n"
    )


def test_webvtt_passes_through():
    assert captions_to_webvtt(VTT.encode()) == VTT


def test_the_output_is_valid_webvtt():
    parsed = webvtt.WebVTT.from_string(captions_to_webvtt(SRT.encode()), strict=True)
    assert [(cue.start, cue.end) for cue in parsed] == [
        ("00:00:01.000", "00:00:02.500"),
        ("00:01:03.250", "00:01:04.000"),
    ]


def test_it_tells_the_format_by_content_and_accepts_a_byte_order_mark():
    assert captions_to_webvtt(b"\xef\xbb\xbf" + SRT.encode()).startswith("WEBVTT\n\n00:00:01.000")
    assert captions_to_webvtt(b"\xef\xbb\xbf" + VTT.encode()) == VTT


def test_it_strips_markup_styles_and_comments():
    vtt = (
        "WEBVTT\n\nSTYLE\n::cue { background: url(https://tracker.example/) }\n\nNOTE hi\n\n"
        '00:01.000 --> 00:02.000\n<script>alert(1)</script><b onclick="x">bold</b> '
        '<c.red>red</c> <font color="red">font</font> {\\an8}a < b\n'
    )
    assert captions_to_webvtt(vtt.encode()) == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nalert(1)<b>bold</b> red font a &lt; b\n"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfeW\x00E\x00", "The captions file is not UTF-8 text."),
        (b"Just some notes.\n", "This is not a captions file: send WebVTT (.vtt) or SRT (.srt)."),
        (b"WEBVTT\n\nNOTE nothing to show\n", "The captions file has no cues."),
        (
            b"1\n00:00:05,000 --> 00:00:01,000\nBackwards\n",
            "Cue 1 (00:00:05.000 --> 00:00:01.000) must end after it starts.",
        ),
        (
            b"WEBVTT\n\n00:01.000 --> 00:0x.000\nBroken time\n",
            "The captions file has a cue that cannot be read: check its times (such as "
            "00:01:02.500 --> 00:01:04.000) and settings.",
        ),
    ],
    ids=["not-utf8", "not-captions", "no-cues", "ends-before-start", "unreadable-cue"],
)
def test_an_invalid_file_is_refused_saying_why(content, message):
    assert refusal(content) == message


def test_a_file_over_512_kb_is_refused():
    cue = "00:00:01.000 --> 00:00:02.000\n" + "x" * 1000 + "\n\n"
    big = ("WEBVTT\n\n" + cue * (MAX_BYTES // len(cue) + 1)).encode()
    assert refusal(big) == "The captions file is larger than 512 KB."


def test_more_than_5000_cues_are_refused():
    many = "WEBVTT\n\n" + "00:00:01.000 --> 00:00:02.000\nx\n\n" * 5001
    assert refusal(many.encode()) == "The captions file has more than 5000 cues."


def test_the_language_is_required_and_must_be_a_language_tag():
    assert captions_check(content=SRT.encode(), language=" pt-BR ")[1] == "pt-BR"
    with pytest.raises(ValidationError) as missing:
        captions_check(content=SRT.encode(), language="")
    assert missing.value.message_dict == {
        "language": ["Enter the language of the captions, such as en, es or pt-BR."]
    }
    with pytest.raises(ValidationError) as wrong:
        captions_check(content=b"nope", language="<b>")
    assert set(wrong.value.message_dict) == {"file", "language"}


# ---------------------------------------------------------------- the API


def put_captions(client, video, text: str = SRT, language: str = "es"):
    return client.put(
        f"/api/v1/videos/{video.id}/captions",
        {"file": upload(text), "language": language},
        format="multipart",
    )


def test_the_organizer_sets_replaces_and_removes_captions(alice_api, api, contest):
    video = ready_video(contest, 1)
    response = put_captions(alice_api, video)
    assert response.status_code == 200, response.json()
    body = response.json()
    url = f"http://localhost:8080/summer-shorts/videos/{video.id}/captions.vtt"
    assert body["captions_url"] == url and body["captions_language"] == "es"
    video.refresh_from_db()
    assert video.captions.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n")
    # The public sees the captions in the list and on the entry.
    listed = api.get(f"/api/v1/contests/{contest.slug}/videos").json()["results"][0]
    assert listed["captions_url"] == url
    assert put_captions(alice_api, video, VTT, "pt-BR").json()["captions_language"] == "pt-BR"
    video.refresh_from_db()
    assert video.captions == VTT

    assert alice_api.delete(f"/api/v1/videos/{video.id}/captions").status_code == 204
    video.refresh_from_db()
    assert (video.captions, video.captions_language) == ("", "")
    shown = api.get(f"/api/v1/videos/{video.id}").json()
    assert shown["captions_url"] is None and shown["captions_language"] == ""


def test_a_refused_file_or_language_is_a_400_naming_the_field(alice_api, contest):
    video = ready_video(contest, 1)
    response = put_captions(alice_api, video, "Just some notes.\n", "english")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["file"] == ["This is not a captions file: send WebVTT (.vtt) or SRT (.srt)."]
    assert errors["language"][0].startswith("“english” is not a language tag")
    missing = alice_api.put(f"/api/v1/videos/{video.id}/captions", {}, format="multipart")
    assert set(missing.json()["errors"]) == {"file", "language"}
    video.refresh_from_db()
    assert video.captions == ""


def test_only_the_organizer_changes_captions(api, bob_api, contest):
    video = ready_video(contest, 1, captions=VTT, captions_language="en")
    for client in (api, bob_api):
        assert put_captions(client, video).status_code == 404
        assert client.delete(f"/api/v1/videos/{video.id}/captions").status_code == 404
    video.refresh_from_db()
    assert (video.captions, video.captions_language) == (VTT, "en")


def test_captions_can_come_with_the_entry(api, contest, clips):
    fields = entry_fields(clips[".avi"], captions=upload(SRT), captions_language="es")
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", fields)
    assert response.status_code == 202, response.json()
    video = Video.objects.get(id=response.json()["id"])
    assert video.captions.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500")
    assert video.captions_language == "es"


def test_an_entry_with_refused_captions_is_not_stored(api, contest, clips):
    fields = entry_fields(clips[".avi"], captions=upload("WEBVTT\n\n"), captions_language="es")
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", fields)
    assert response.status_code == 400
    assert response.json()["errors"] == {"captions": ["The captions file has no cues."]}
    fields = entry_fields(clips[".avi"], captions=upload(SRT))
    response = api.post(f"/api/v1/contests/{contest.slug}/videos", fields)
    assert response.json()["errors"] == {
        "captions_language": ["Enter the language of the captions, such as en, es or pt-BR."]
    }
    assert not Video.objects.exists()


def test_the_contest_page_judges_captions_as_the_api_does(client, contest, clips, collected_static):
    fields = entry_fields(clips[".avi"], captions=upload("WEBVTT\n\n"), captions_language="es")
    response = client.post(f"/{contest.slug}/", fields)
    assert response.status_code == 200
    assert response.context["form"].errors == {"captions": ["The captions file has no cues."]}
    fields = entry_fields(clips[".avi"], captions=upload(SRT), captions_language="es")
    assert client.post(f"/{contest.slug}/", fields).status_code == 302
    assert Video.objects.get().captions_language == "es"


def test_the_schema_documents_the_captions_operations(api, db):
    schema = api.get("/api/v1/openapi.json").json()
    operations = schema["paths"]["/api/v1/videos/{video_id}/captions"]
    assert list(operations["put"]["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"200", "400", "404"} <= set(operations["put"]["responses"])
    assert {"204", "404"} <= set(operations["delete"]["responses"])
    video = schema["components"]["schemas"]["VideoPublic"]["properties"]
    assert video["captions_url"]["nullable"] is True


# ---------------------------------------------------------------- serving


def vtt_url(video) -> str:
    return f"/{video.contest.slug}/videos/{video.id}/captions.vtt"


def test_the_captions_are_served_as_webvtt(client, contest):
    video = ready_video(contest, 1, captions=VTT, captions_language="en")
    response = client.get(vtt_url(video))
    assert response.status_code == 200
    assert response.content.decode() == VTT
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=300"


def test_a_hidden_entrys_captions_are_for_its_organizer_only(client, alice, bob, contest):
    video = ready_video(contest, 1, captions=VTT, captions_language="en", hidden=True)
    assert client.get(vtt_url(video)).status_code == 404
    assert logged_in(bob).get(vtt_url(video)).status_code == 404
    response = logged_in(alice).get(vtt_url(video))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"


def test_no_captions_or_another_contests_address_is_404(client, contest):
    video = ready_video(contest, 1)
    assert client.get(vtt_url(video)).status_code == 404
    captioned = ready_video(contest, 2, captions=VTT, captions_language="en")
    assert client.get(f"/other/videos/{captioned.id}/captions.vtt").status_code == 404


def test_the_video_page_has_the_track(client, contest, collected_static):
    video = ready_video(contest, 1, captions=VTT, captions_language="es")
    page = client.get(video.get_absolute_url()).content.decode()
    assert (
        f'<track kind="captions" src="{vtt_url(video)}" srclang="es" label="español" default>'
        in page
    )
    plain = ready_video(contest, 2)
    assert "<track" not in client.get(plain.get_absolute_url()).content.decode()


# ---------------------------------------------------------------- the entries page

ENTRIES = "/dashboard/contests/summer-shorts/"


def test_the_organizer_adds_and_removes_captions_on_the_entries_page(
    alice, contest, collected_static
):
    video = ready_video(contest, 1)
    browser = logged_in(alice)
    page = browser.get(ENTRIES).content.decode()
    assert f'<label for="captions-file-{video.id}">' in page
    assert f'<label for="captions-language-{video.id}">' in page
    response = browser.post(
        ENTRIES + "?status=ready", {"video": video.id, "file": upload(SRT), "language": "es"}
    )
    assert response.status_code == 302 and response["Location"] == ENTRIES + "?status=ready"
    video.refresh_from_db()
    assert video.captions_language == "es" and video.captions.startswith("WEBVTT")
    assert "Remove captions" in browser.get(ENTRIES).content.decode()
    assert browser.post(ENTRIES, {"video": video.id, "remove": "1"}).status_code == 302
    video.refresh_from_db()
    assert (video.captions, video.captions_language) == ("", "")


def test_the_entries_page_shows_why_captions_were_refused(alice, contest, collected_static):
    video = ready_video(contest, 1)
    backwards = "1\n00:00:05,000 --> 00:00:01,000\nx\n"
    browser = logged_in(alice)
    response = browser.post(ENTRIES, {"video": video.id, "file": upload(backwards)})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<p class="error" id="captions-error-{video.id}" role="alert">' in page
    assert "This field is required." in page  # the language
    data = {"video": video.id, "file": upload(backwards), "language": "en"}
    page = browser.post(ENTRIES, data).content.decode()
    assert "Cue 1 (00:00:05.000 --&gt; 00:00:01.000) must end after it starts." in page
    video.refresh_from_db()
    assert video.captions == ""


def test_another_organizer_cannot_change_captions_on_the_entries_page(bob, contest):
    video = ready_video(contest, 1)
    browser = logged_in(bob)
    data = {"video": video.id, "file": upload(SRT), "language": "es"}
    assert browser.post(ENTRIES, data).status_code == 404
    assert browser.post("/dashboard/contests/summer-shorts/", {"video": "nope"}).status_code == 404
    video.refresh_from_db()
    assert video.captions == ""
