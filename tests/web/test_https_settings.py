"""HTTPS behind a load balancer, the cluster's shared secret key, the Host header and the
Content-Security-Policy.

What the configuration turns into is read from a fresh process with production settings
(config.settings, only the keys a test gives), as an instance starts. How Django then answers
is checked in this process with those very settings.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from config import loader, storage
from tests.e2e.service import ROOT
from tests.web.helpers import html, ready_video

WEB_URL = "https://videos.example.org"
KEY = "k3y-of-the-cluster-" + "x" * 40  # long and varied enough for check --deploy
SERVER_DATABASE = {"db_engine": "postgresql", "rds_url": "db.example.internal",
                   "rds_db": "videoshare", "rds_user": "videoshare"}  # fmt: skip
SHOWN = [
    "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_SSL_HOST", "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SILENCED_SYSTEM_CHECKS", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS", "SECRET_KEY",
]  # fmt: skip


def production(data_dir: Path, *args: str, **config: str) -> subprocess.CompletedProcess:
    """Python with production settings and only these keys, as an instance starts."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIDEOSHARE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VIDEOSHARE_DATA_DIR=str(data_dir),
        **{f"VIDEOSHARE_{key.upper()}": value for key, value in config.items()},
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_settings(data_dir: Path, **config: str) -> dict:
    show = f"from django.conf import settings as s; import json; print(json.dumps({{n: getattr(s, n) for n in {SHOWN!r}}}))"  # noqa: E501
    done = production(data_dir, "-c", show, **config)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def https(tmp_path_factory) -> dict:
    """The settings of an instance whose web_url is https."""
    values = production_settings(tmp_path_factory.mktemp("https"), web_url=WEB_URL)
    del values["ALLOWED_HOSTS"], values["SECRET_KEY"]  # the test client's own stay
    return values


# ---------------------------------------------------------------- what web_url turns on


def test_an_https_web_url_turns_on_hsts_secure_cookies_and_the_redirect(https):
    assert https["SECURE_SSL_REDIRECT"] is True
    assert https["SECURE_SSL_HOST"] == "videos.example.org"
    assert https["SECURE_REDIRECT_EXEMPT"] == ["^health$"]
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert https["SECURE_HSTS_SECONDS"] == 31536000
    assert https["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert https["SECURE_HSTS_PRELOAD"] is False
    for cookie in ("SESSION", "CSRF", "LANGUAGE"):
        assert https[f"{cookie}_COOKIE_SECURE"] is True, cookie
    assert https["SESSION_COOKIE_HTTPONLY"] is True
    assert https["SESSION_COOKIE_SAMESITE"] == https["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert https["CSRF_TRUSTED_ORIGINS"] == [WEB_URL]


def test_an_http_web_url_leaves_them_off(tmp_path):
    values = production_settings(tmp_path, web_url="http://videos.example.org")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert not any(values[f"{cookie}_COOKIE_SECURE"] for cookie in ("SESSION", "CSRF"))


def test_the_seeds_bare_host_name_stays_http(tmp_path):
    values = production_settings(tmp_path, web_url="videos.example.org")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["CSRF_TRUSTED_ORIGINS"] == ["http://videos.example.org"]


def test_hsts_length_subdomains_and_preload_are_keys(tmp_path):
    values = production_settings(
        tmp_path, web_url=WEB_URL, hsts_seconds="3600",
        hsts_include_subdomains="true", hsts_preload="true",
    )  # fmt: skip
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []  # nothing left to excuse


def test_check_deploy_is_clean_for_an_https_web_url(tmp_path):
    done = production(
        tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        web_url=WEB_URL, secret_key=KEY,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_for_an_http_web_url(tmp_path):
    done = production(
        tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        web_url="http://videos.example.org", secret_key=KEY,
    )  # fmt: skip
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


# ---------------------------------------------------------------- how Django answers then


def test_plain_http_is_redirected_to_https(client, https):
    with override_settings(**https):
        response = client.get("/accounts/login/?next=/dashboard/")
    assert response.status_code == 301  # to the public address, whatever Host it came for
    assert response["Location"] == f"{WEB_URL}/accounts/login/?next=/dashboard/"


def test_the_load_balancers_health_check_is_not_redirected(client, db, https):
    with override_settings(**https):
        response = client.get("/health")
    assert response.status_code == 200


def test_https_pages_carry_hsts_for_this_host_only(client, https):
    with override_settings(**https):
        response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_x_forwarded_proto_from_an_untrusted_peer_is_not_believed(client, https):
    # The web server did not take the header (a client reached the instance directly, not
    # through an address in forwarded_allow_ips): the request stays plain HTTP.
    with override_settings(**https):
        response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response


def test_the_scheme_the_server_decided_wins_over_the_header(client, https):
    with override_settings(**https):
        response = client.get("/accounts/login/", secure=True, HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 200  # the server's scheme (https) wins over the header


def test_login_over_https_sets_secure_httponly_lax_cookies(alice, https):
    browser = Client(enforce_csrf_checks=True)
    with override_settings(**https):
        page = browser.get("/accounts/login/", secure=True)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(page))[1]
        response = browser.post(
            "/accounts/login/",
            {"username": "alice@example.com", "password": "alice-secret-1",
             "csrfmiddlewaretoken": token},
            secure=True, HTTP_ORIGIN="https://testserver",
        )  # fmt: skip
    assert response.status_code == 302, html(response)
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"


@pytest.mark.parametrize(
    "origin, status",
    [
        ("https://testserver", 302),  # the page's own origin, as the browser sends it
        (WEB_URL, 302),  # web_url's, where the balancer rewrites Host
        ("http://testserver", 403),  # the same host over plain HTTP
        ("https://evil.example", 403),
    ],
)
def test_a_form_post_over_https_passes_the_origin_check_from_its_own_origin(
    alice, https, origin, status
):
    browser = Client(enforce_csrf_checks=True)
    with override_settings(**https):
        page = browser.get("/accounts/login/", secure=True)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(page))[1]
        response = browser.post(
            "/accounts/login/",
            {"username": "alice@example.com", "password": "alice-secret-1",
             "csrfmiddlewaretoken": token},
            secure=True, HTTP_ORIGIN=origin,
        )  # fmt: skip
    assert response.status_code == status


# ---------------------------------------------------------------- secret key


@pytest.mark.parametrize(
    "database",
    [SERVER_DATABASE, {"rds_url": "db.example.internal", "rds_db": "videoshare"}],
    ids=["postgresql", "the seed's rds keys (mysql)"],
)
def test_a_cluster_without_a_secret_key_refuses_to_start(tmp_path, database):
    done = production(tmp_path, "manage.py", "check", **database)
    assert done.returncode != 0
    assert "ConfigError: secret_key is required with a database server" in done.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_cluster_with_a_secret_key_starts_with_it(tmp_path):
    values = production_settings(tmp_path, **SERVER_DATABASE, secret_key=KEY)
    assert values["SECRET_KEY"] == KEY


def test_one_machine_needs_no_key_and_keeps_the_one_it_made(tmp_path):
    first = production_settings(tmp_path)["SECRET_KEY"]
    kept = tmp_path / "secret_key"
    assert kept.read_text() == first and len(first) >= 50
    assert kept.stat().st_mode & 0o777 == 0o600
    assert production_settings(tmp_path)["SECRET_KEY"] == first


# ---------------------------------------------------------------- host names


def test_production_refuses_the_test_clients_host_name(tmp_path):
    ask = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/api/v1/nope', secure=True).status_code, "
        "Client(HTTP_HOST='videos.example.org').get('/api/v1/nope', secure=True).status_code)"
    )
    done = production(tmp_path, "-c", ask, web_url=WEB_URL)
    assert done.returncode == 0, done.stderr
    # testserver is refused (400); web_url's host gets the application's answer (its 404)
    assert done.stdout.split()[-2:] == ["400", "404"]


def test_testserver_is_allowed_only_in_the_tests_settings(tmp_path):
    assert "testserver" in settings.ALLOWED_HOSTS
    assert "testserver" not in production_settings(tmp_path)["ALLOWED_HOSTS"]


# ---------------------------------------------------------------- Content-Security-Policy


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        directive.split()[0]: directive.split()[1:]
        for directive in (part.strip() for part in header.split(";"))
        if directive
    }


INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle=|\son[a-z]+=|javascript:", re.I)


@pytest.fixture
def every_page(contest, alice, alice_client):
    """Every kind of page, as the public and the organizer see it: (client, path)."""
    video = ready_video(contest)
    public = Client()
    admin = Client()
    admin.force_login(type(alice).objects.create_superuser(email="root@example.com", password="r"))
    return [
        (public, "/"), (public, "/summer-shorts/"), (public, f"/summer-shorts/videos/{video.id}/"),
        (public, "/accounts/login/"), (public, "/accounts/signup/"),
        (public, "/accounts/password_reset/"),
        (alice_client, "/dashboard/"), (alice_client, "/dashboard/contests/new/"),
        (alice_client, "/dashboard/contests/summer-shorts/"),
        (alice_client, "/dashboard/contests/summer-shorts/edit/"),
        (alice_client, "/dashboard/contests/summer-shorts/delete/"),
        (admin, "/admin/"), (admin, "/admin/contests/contest/"),
    ]  # fmt: skip


def test_every_page_has_a_strict_policy_and_no_inline_script_or_style(every_page):
    for browser, path in every_page:
        response = browser.get(path)
        assert response.status_code == 200, path
        rules = policy(response)
        for directive in ("script-src", "style-src", "connect-src", "form-action"):
            assert rules[directive] == ["'self'"], (path, directive)
        assert rules["default-src"] == ["'self'"]
        # blob: a banner's preview before it is sent; a stream played through hls.js
        assert rules["img-src"] == rules["media-src"] == ["'self'", "blob:"]
        assert rules["frame-ancestors"] == rules["object-src"] == ["'none'"]
        assert "unsafe" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        found = INLINE.findall(html(response))
        assert not found, (path, found)


def test_no_template_holds_inline_script_or_style():
    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    found = {str(path): INLINE.findall(path.read_text()) for path in templates}
    assert not {path: hits for path, hits in found.items() if hits}


def test_the_api_has_the_policy_too(client, contest):
    for path in ("/api/v1/contests/summer-shorts/videos", "/api/v1/nope"):
        response = client.get(path)
        assert policy(response)["default-src"] == ["'self'"], path
        assert policy(response)["frame-ancestors"] == ["'none'"], path


def test_media_from_cloudfront_are_allowed_for_pictures_and_videos(client, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")  # signing a link needs no network
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    config = loader.load(
        environ={"VIDEOSHARE_S3_URL": "my-bucket", "VIDEOSHARE_CF_URL": "d5test",
                 "VIDEOSHARE_SECRET_REGION": "us-east-1"},
        config_file=None,
    )  # fmt: skip
    with override_settings(STORAGES=storage.storages(config, tmp_path)):
        rules = policy(client.get("/accounts/login/"))
    for directive in ("img-src", "media-src", "connect-src"):
        assert "https://d5test.cloudfront.net" in rules[directive], directive
        # the organizer's signed links to a hidden entry's files come from the bucket
        assert "https://my-bucket.s3.amazonaws.com" in rules[directive], directive
    assert rules["script-src"] == ["'self'"]  # files from there are never run


def test_media_straight_from_s3_are_allowed_from_the_bucket(client, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    config = loader.load(
        environ={"VIDEOSHARE_S3_URL": "my-bucket", "VIDEOSHARE_SECRET_REGION": "us-east-1"},
        config_file=None,
    )
    with override_settings(STORAGES=storage.storages(config, tmp_path)):
        rules = policy(client.get("/accounts/login/"))
    for directive in ("img-src", "media-src"):
        assert "https://my-bucket.s3.amazonaws.com" in rules[directive], directive
