"""A contest's entries for its organizer: states, filters, hiding, the original upload."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.web.helpers import html, many_ready_videos, ready_video, video_with_original
from videos.models import Video

ENTRIES = "/dashboard/contests/summer-shorts/"


def test_alice_sees_every_entry_with_its_state_and_files(alice_client, contest):
    ready = ready_video(contest, 0)
    failed = ready_video(contest, 1, status=Video.Status.FAILED, failure_reason="No video stream.")
    ready_video(contest, 2, status=Video.Status.QUEUED, converted="", poster="", hidden=True)
    response = alice_client.get(ENTRIES)
    for state in ("ready", "failed", "queued"):
        assertContains(response, f'<span class="state state-{state}">{state.title()}</span>')
    assertContains(response, '<small class="reason">No video stream.</small>')
    assertContains(response, "<small>hidden</small>")
    for email in ("p0@example.com", "p1@example.com", "p2@example.com"):
        assertContains(response, email)
    assertContains(response, f'href="/dashboard/videos/{failed.id}/original"')
    assertContains(response, f'href="/dashboard/videos/{ready.id}/original"')
    assertContains(response, '<a class="mp4" href="/media/videos/x0.mp4">MP4</a>', count=1)


def test_the_entries_can_be_filtered_by_state(alice_client, contest):
    ready = ready_video(contest, 0)
    failed = ready_video(contest, 1, status=Video.Status.FAILED, failure_reason="Broken.")
    response = alice_client.get(ENTRIES + "?status=failed")
    assertContains(response, f'id="entry-{failed.id}"')
    assertNotContains(response, f'id="entry-{ready.id}"')


def test_the_entries_are_50_a_page(alice_client, contest):
    many_ready_videos(contest, 51)
    first = alice_client.get(ENTRIES)
    assertContains(first, '<tr id="entry-', count=50)
    assertContains(first, 'href="?page=2"')
    assertContains(alice_client.get(ENTRIES + "?page=2"), '<tr id="entry-', count=1)


def test_bob_cannot_see_alices_entries(bob_client, contest):
    ready_video(contest, 0)
    assert bob_client.get(ENTRIES).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, contest):
    assertRedirects(client.get(ENTRIES), f"/accounts/login/?next={ENTRIES}")


# ---------------------------------------------------------------- hide and show


def set_hidden(browser, video, hidden: str):
    return browser.post(f"/dashboard/videos/{video.id}/visibility", {"hidden": hidden})


def test_alice_hides_a_video_from_the_public_page(alice_client, client, contest):
    video = ready_video(contest, 0)
    assertRedirects(set_hidden(alice_client, video, "1"), ENTRIES)
    assertNotContains(client.get("/summer-shorts/"), f'id="video-{video.id}"')
    assert client.get(f"/summer-shorts/videos/{video.id}/").status_code == 404


def test_alice_shows_a_hidden_video_again(alice_client, client, contest):
    video = ready_video(contest, 0, hidden=True)
    assertRedirects(set_hidden(alice_client, video, "0"), ENTRIES)
    assertContains(client.get("/summer-shorts/"), f'id="video-{video.id}"')


def test_hiding_goes_back_to_the_page_it_came_from(alice_client, contest):
    video = ready_video(contest, 0)
    back = f"{ENTRIES}?status=ready&page=1"
    response = alice_client.post(
        f"/dashboard/videos/{video.id}/visibility", {"hidden": "1", "next": back}
    )
    assertRedirects(response, back)


def test_hiding_never_sends_back_to_another_site(alice_client, contest):
    video = ready_video(contest, 0)
    response = alice_client.post(
        f"/dashboard/videos/{video.id}/visibility", {"hidden": "1", "next": "https://evil.test/"}
    )
    assertRedirects(response, ENTRIES)


def undo_form(page: str) -> str:
    return page.split('<form method="post" action="', 1)[1].split("</form>", 1)[0]


def test_hiding_says_so_with_an_undo_that_shows_the_entry_again(alice_client, client, contest):
    video = ready_video(contest, 0)
    back = f"{ENTRIES}?status=ready"
    response = alice_client.post(
        f"/dashboard/videos/{video.id}/visibility", {"hidden": "1", "next": back}, follow=True
    )
    assertContains(response, "Entry hidden.")
    messages = html(response).split('<ul class="messages">', 1)[1].split("</ul>")[0]
    undo = undo_form(messages)
    assert undo.startswith(f"/dashboard/videos/{video.id}/visibility")
    assert 'name="hidden" value="0"' in undo and f'name="next" value="{back}"' in undo
    # Focus lands on Undo after the reload, with or without JavaScript.
    assertContains(response, "autofocus>Undo</button>", count=1)

    again = alice_client.post(
        f"/dashboard/videos/{video.id}/visibility", {"hidden": "0", "next": back}, follow=True
    )
    assert again.redirect_chain == [(back, 302)]
    assertContains(again, "Entry shown.")
    assertNotContains(again, "Entry hidden.")
    assertContains(client.get("/summer-shorts/"), f'id="video-{video.id}"')


def test_the_undo_message_is_in_the_organizers_language(contest, alice):
    from django.test import Client

    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.force_login(alice)
    video = ready_video(contest, 0)
    response = spanish.post(
        f"/dashboard/videos/{video.id}/visibility", {"hidden": "1"}, follow=True
    )
    assertContains(response, '<html lang="es">')
    assertContains(response, 'name="hidden" value="0"')


@pytest.mark.parametrize("hidden", ["1", "0"])
def test_bob_cannot_hide_or_show_alices_video(bob_client, contest, hidden):
    video = ready_video(contest, 0, hidden=hidden == "0")
    assert set_hidden(bob_client, video, hidden).status_code == 404
    video.refresh_from_db()
    assert video.hidden is (hidden == "0")


def test_an_anonymous_visitor_cannot_hide_a_video(client, contest):
    video = ready_video(contest, 0)
    response = set_hidden(client, video, "1")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    video.refresh_from_db()
    assert video.hidden is False


def test_visibility_is_changed_by_post_only(alice_client, contest):
    video = ready_video(contest, 0)
    response = alice_client.get(f"/dashboard/videos/{video.id}/visibility?hidden=1")
    assert response.status_code == 405
    video.refresh_from_db()
    assert video.hidden is False


# ---------------------------------------------------------------- the original upload


def test_alice_downloads_the_exact_original(alice_client, contest, clips):
    video = video_with_original(contest, clips[".avi"])
    response = alice_client.get(f"/dashboard/videos/{video.id}/original")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="clip.avi"'
    assert response.getvalue() == clips[".avi"].read_bytes()


def test_bob_cannot_download_alices_original(bob_client, contest, clips):
    video = video_with_original(contest, clips[".avi"])
    assert bob_client.get(f"/dashboard/videos/{video.id}/original").status_code == 404


def test_an_anonymous_visitor_cannot_download_an_original(client, contest, clips):
    video = video_with_original(contest, clips[".avi"])
    url = f"/dashboard/videos/{video.id}/original"
    assertRedirects(client.get(url), f"/accounts/login/?next={url}")


def test_the_live_states_tell_alice_what_changed(alice_client, contest):
    video = ready_video(contest, 1, status=Video.Status.FAILED, failure_reason="Broken.")
    response = alice_client.get(f"/dashboard/contests/summer-shorts/states?ids={video.id}")
    body = response.json()
    assert body["count"] == 1
    assert body["entries"][str(video.id)]["status"] == "failed"
    assert body["entries"][str(video.id)]["failure_reason"] == "Broken."


def test_bob_cannot_read_the_live_states(bob_client, contest):
    video = ready_video(contest, 1)
    response = bob_client.get(f"/dashboard/contests/summer-shorts/states?ids={video.id}")
    assert response.status_code == 404
