"""An entry's media assets (videos.assets) where people and clients meet them: the video page's
stream player, the galleries' thumbnails, the API's URLs and the Content-Security-Policy that
lets the player work."""

from pathlib import Path

from django.conf import settings

from tests.web.helpers import html, ready_video
from videos import assets
from videos.models import Video

STATIC = Path(settings.BASE_DIR, "static")


def with_assets(contest, n=0, *, streams=Video.StreamsStatus.READY, **fields) -> Video:
    video = ready_video(contest, n, streams_status=streams, **fields)
    video.assets = assets.folder_for(video)
    video.save(update_fields=["assets"])
    return video


def media(video: Video, name: str) -> str:
    return f"/media/entries/{video.id}/{name}"


def asset_fields(entry: dict) -> tuple:
    return entry["stream_url"], entry["storyboard_url"], entry["thumbnail_urls"]


def policy(response) -> dict[str, list[str]]:
    parts = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {part[0]: part[1:] for part in parts if part}


# ---------------------------------------------------------------- the API


def test_the_api_gives_the_stream_storyboard_and_thumbnails_as_absolute_urls(api, contest):
    video = with_assets(contest)
    (entry,) = api.get("/api/v1/contests/summer-shorts/videos").json()["results"]
    assert entry["stream_url"] == settings.WEB_URL + media(video, "master.m3u8")
    assert entry["storyboard_url"] == settings.WEB_URL + media(video, "storyboard.vtt")
    assert entry["thumbnail_urls"] == {
        "320": settings.WEB_URL + media(video, "thumb-320.jpg"),
        "640": settings.WEB_URL + media(video, "thumb-640.jpg"),
    }
    assert entry["video_url"] == settings.WEB_URL + "/media/videos/x0.mp4"  # unchanged


def test_the_api_gives_thumbnails_before_the_stream_is_made(api, contest):
    with_assets(contest, streams=Video.StreamsStatus.PENDING)
    (entry,) = api.get("/api/v1/contests/summer-shorts/videos").json()["results"]
    assert entry["stream_url"] is None and entry["storyboard_url"] is None
    assert set(entry["thumbnail_urls"]) == {"320", "640"}


def test_the_api_gives_none_for_an_entry_without_assets(api, contest):
    ready_video(contest)
    (entry,) = api.get("/api/v1/contests/summer-shorts/videos").json()["results"]
    assert asset_fields(entry) == (None, None, {})


def test_the_organizer_gets_no_asset_urls_for_a_hidden_entry(alice_api, contest):
    video = with_assets(contest, hidden=True)
    entry = alice_api.get(f"/api/v1/videos/{video.id}").json()
    assert asset_fields(entry) == (None, None, {})


def test_the_schema_describes_the_new_fields(api, db):
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]["VideoPublic"]
    fields = schema["properties"]
    assert fields["stream_url"]["nullable"] and fields["storyboard_url"]["nullable"]
    assert fields["thumbnail_urls"]["type"] == "object"
    assert fields["thumbnail_urls"]["additionalProperties"] == {"type": "string"}


# ---------------------------------------------------------------- the video page


def test_the_video_page_plays_the_stream_with_plyr_and_keeps_the_mp4(client, contest):
    video = with_assets(contest)
    page = html(client.get(video.get_absolute_url()))
    assert f'data-stream="{media(video, "master.m3u8")}"' in page
    assert f'data-storyboard="{media(video, "storyboard.vtt")}"' in page
    assert '<source src="/media/videos/x0.mp4" type="video/mp4">' in page
    assert '<script src="/static/js/player.' in page
    assert '<script src="/static/vendor/plyr-3.8.4/plyr.min.' in page
    assert 'href="/static/vendor/plyr-3.8.4/plyr.' in page
    assert 'data-icons="/static/vendor/plyr-3.8.4/plyr.' in page  # never Plyr's CDN
    # hls.js is only named for player.js, which loads it where the browser needs it.
    assert 'data-hls-script="/static/vendor/hls.js-1.7.4/hls.min.' in page
    assert '<script src="/static/vendor/hls.js' not in page
    assert 'id="player-texts"' in page and 'data-enter-fullscreen="Enter fullscreen"' in page


def test_without_a_stream_the_video_page_has_the_plain_player(client, contest):
    video = with_assets(contest, streams=Video.StreamsStatus.PENDING)
    page = html(client.get(video.get_absolute_url()))
    assert '<source src="/media/videos/x0.mp4" type="video/mp4">' in page
    assert "data-stream" not in page and "player.js" not in page and "plyr" not in page


def test_the_organizer_plays_a_hidden_entry_from_its_mp4(client, alice, contest):
    video = with_assets(contest, hidden=True, converted="hidden/videos/x0.mp4")
    client.force_login(alice)
    response = client.get(video.get_absolute_url())
    assert response.status_code == 200
    assert "data-stream" not in html(response) and "plyr" not in html(response)


# ---------------------------------------------------------------- galleries


def test_the_contest_page_offers_both_thumbnails_or_else_the_poster(client, contest):
    video = with_assets(contest, 0)
    older = ready_video(contest, 1)
    page = html(client.get("/summer-shorts/"))
    # The browser picks the thumbnail that fits the card's width on its screen.
    srcset = f"{media(video, 'thumb-320.jpg')} 320w, {media(video, 'thumb-640.jpg')} 640w"
    assert f'<img src="{media(video, "thumb-320.jpg")}" srcset="{srcset}" sizes="' in page
    assert f'<img src="/media/{older.poster.name}" width="320" height="180" alt=""' in page


def test_the_dashboard_shows_the_320_thumbnail_or_else_the_poster(client, alice, contest):
    video = with_assets(contest, 0)
    hidden = with_assets(contest, 1, hidden=True, poster="hidden/posters/x1.jpg")
    client.force_login(alice)
    page = html(client.get("/dashboard/contests/summer-shorts/"))
    assert f'<img class="thumb" src="{media(video, "thumb-320.jpg")}"' in page
    assert f'<img class="thumb" src="/media/{hidden.poster.name}"' in page  # its folder is private


# ---------------------------------------------------------------- policy and vendored files


def test_the_vendored_players_are_pinned_and_licensed():
    for folder, files in {
        "hls.js-1.7.4": ["hls.min.js", "LICENSE"],
        "plyr-3.8.4": ["plyr.min.js", "plyr.css", "plyr.svg", "LICENSE.md"],
        "tus-js-client-4.3.1": ["tus.min.js", "LICENSE"],
        "uppy-5.2.4": ["uppy.min.js", "LICENSE"],
    }.items():
        for name in files:
            path = STATIC / "vendor" / folder / name
            assert path.stat().st_size > 0, path
            # collectstatic would look for the source map, which is not shipped
            assert "sourceMappingURL" not in path.read_text(), path
    assert "npm pack" in (STATIC / "vendor" / "README.md").read_text()
