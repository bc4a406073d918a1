"""The site's own error pages: 404, 500 and a refused form (CSRF), in the visitor's language and
sized for a phone; a hidden or deleted entry's link says so and leads to its contest. Under
/api/ errors stay JSON (tests/test_api_errors.py)."""

import re
import uuid

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation
from pytest_django.asserts import assertContains, assertNotContains

from api import errors
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - the probe's
from config.urls import urlpatterns as site_urls
from tests.web.helpers import EMAIL, html, ready_video
from videos.models import Video

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
PHONE_SIZED = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def main(response) -> str:
    return html(response).split("<main", 1)[1].split("</main>", 1)[0]


def failure(request):
    raise RuntimeError("a bug")


urlpatterns = [path("probe/failure", failure), *site_urls]


@pytest.fixture
def spanish() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")


def test_an_unknown_page_is_the_sites_404(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assertContains(response, "<h1>Page not found</h1>", status_code=404)
    assertContains(response, '<a class="button" href="/">', status_code=404)
    assertContains(response, PHONE_SIZED, status_code=404)
    assertContains(response, "/static/css/site", status_code=404)


def test_the_404_is_in_the_visitors_language(spanish, db):
    response = spanish.get("/no/such/page/")
    assertContains(response, '<html lang="es">', status_code=404)
    assertContains(response, "Saltar al contenido", status_code=404)


@pytest.mark.parametrize("who", ["anonymous", "bob"])
@pytest.mark.parametrize("gone", ["hidden", "deleted", "never"])
def test_a_gone_entrys_link_says_so_and_leads_to_its_contest(browsers, contest, who, gone):
    video = ready_video(contest, 0, hidden=gone == "hidden", message="My secret")
    video_id = uuid.uuid4() if gone == "never" else video.id
    if gone == "deleted":
        Video.objects.filter(id=video.id).delete()
    response = browsers[who].get(f"/summer-shorts/videos/{video_id}/")
    assert response.status_code == 404
    assertContains(response, "<h1>This video is no longer available</h1>", status_code=404)
    assertContains(response, '<a class="button" href="/summer-shorts/">', status_code=404)
    # Nothing of the entry, and the same words as for an id that never was: no way to tell. The
    # form's random token is left out of the search: it may spell "P0" by chance.
    page = CSRF_TOKEN.sub("", html(response))
    for private in ("P0", "My secret", "x0."):
        assert private not in page
    assert EMAIL.findall(page) == []
    unknown = browsers[who].get(f"/summer-shorts/videos/{uuid.uuid4()}/")
    assert main(response) == main(unknown)


def test_the_organizer_still_sees_her_hidden_entry(alice_client, contest):
    video = ready_video(contest, 0, hidden=True)
    assertContains(alice_client.get(f"/summer-shorts/videos/{video.id}/"), "<h1>P0 Q</h1>")


def test_an_entry_of_an_unknown_contest_is_the_plain_404(client, contest):
    video = ready_video(contest, 0)
    response = client.get(f"/no-such-contest/videos/{video.id}/")
    assertContains(response, "<h1>Page not found</h1>", status_code=404)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("language", "lang"), [("en", "en"), ("es-ES,es;q=0.9", "es")])
def test_a_failure_is_the_sites_500_in_the_visitors_language(db, language, lang):
    visitor = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = visitor.get("/probe/failure")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assertContains(response, f'<html lang="{lang}">', status_code=500)
    assertContains(response, PHONE_SIZED, status_code=500)
    assertContains(response, "<h1>", status_code=500)
    assertNotContains(response, "a bug", status_code=500)


def test_the_500_page_needs_no_request_and_no_database():
    # No `db` fixture: any query would fail the test.
    with translation.override("es"):
        page = render_to_string("500.html")
        response = errors.server_error(RequestFactory().get("/somewhere"))
    assert '<html lang="es">' in page and "/static/css/site" in page
    assert "concursos de video abiertos" in page
    assert response.status_code == 500 and response.content.decode() == page


@pytest.mark.parametrize(("language", "lang"), [("en", "en"), ("es-ES,es;q=0.9", "es")])
def test_an_expired_form_is_explained_not_refused_bare(contest, language, lang):
    visitor = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    response = visitor.post(
        "/accounts/login/",
        {"username": "a@example.com", "password": "x"},
        HTTP_REFERER="http://testserver/accounts/login/?next=/dashboard/",
    )
    assert response.status_code == 403
    assertContains(response, f'<html lang="{lang}">', status_code=403)
    assertContains(response, PHONE_SIZED, status_code=403)
    assertContains(
        response, 'href="http://testserver/accounts/login/?next=/dashboard/"', status_code=403
    )
    assertNotContains(response, "CSRF", status_code=403)
    # Its own forms (the language switch) carry a fresh token: reloading the form works.
    assert "csrftoken" in response.cookies


def test_an_expired_form_page_says_it_in_english(db):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {})
    assertContains(response, "<h1>The form expired</h1>", status_code=403)
    assertContains(response, "reload the page and try again", status_code=403)


def test_an_expired_form_links_back_only_to_this_site(db):
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {}, HTTP_REFERER="https://evil.example/phish"
    )
    assertNotContains(response, "evil.example", status_code=403)
    assertContains(response, '<a class="button" href="/">', status_code=403)


def test_under_api_a_refused_form_stays_json(db):
    request = RequestFactory().post("/api/v1/contests")
    response = errors.csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_the_site_has_an_icon_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
