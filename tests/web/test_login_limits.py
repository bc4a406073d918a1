"""Failed log-ins are limited per account and per client network, on the log-in page, the
admin's and the API alike (one count); during a lockout the right password is refused too."""

import threading
import time
import uuid
from contextlib import contextmanager
from unittest import mock

from django.conf import settings as django_settings
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import User
from api import throttles
from tests.servers import require_server

ALICE = {"email": "alice@example.com", "password": "alice-secret-1"}
LOCKED = "Too many failed log-ins with this email address. Please try again in"
NETWORK_LOCKED = "Too many failed log-ins from your network. Please try again in"


def ask_token(api, email=ALICE["email"], password=ALICE["password"], **extra):
    return api.post(
        "/api/v1/auth/token", {"email": email, "password": password}, format="json", **extra
    )


def log_in(client, email=ALICE["email"], password=ALICE["password"], path="/accounts/login/"):
    next_page = "/admin/" if path.startswith("/admin/") else ""  # as each page's form sends
    return client.post(path, {"username": email, "password": password, "next": next_page})


@contextmanager
def window_over():
    """The clock moved on past the current login window."""
    later = time.time() + django_settings.LOGIN_WINDOW_SECONDS
    with mock.patch("time.time", return_value=later):
        yield


def test_after_100_wrong_passwords_the_right_one_is_refused_until_the_window_ends(api, alice):
    answers = [ask_token(api, password=f"guess-{n}").status_code for n in range(100)]
    assert answers == [401] * 10 + [429] * 90  # login_failures_per_account: 10
    refused = ask_token(api)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(LOCKED)
    assert 0 < int(refused["Retry-After"]) <= 15 * 60  # login_window_minutes: 15
    with window_over():
        assert ask_token(api).status_code == 200


def test_the_log_in_page_refuses_the_right_password_during_a_lockout(client, alice):
    for n in range(10):
        assert log_in(client, password=f"guess-{n}").status_code == 200
    page = log_in(client)
    assertContains(page, LOCKED, status_code=429)
    assert 0 < int(page["Retry-After"]) <= 15 * 60
    assertRedirects(client.get("/dashboard/"), "/accounts/login/?next=/dashboard/")
    with window_over():
        assertRedirects(log_in(client), "/dashboard/")


def test_the_admin_log_in_is_limited_too(client, db):
    User.objects.create_superuser(email="root@example.com", password="root-secret-1")
    root = {"email": "root@example.com", "path": "/admin/login/"}
    for n in range(10):
        assert log_in(client, password=f"guess-{n}", **root).status_code == 200
    page = log_in(client, password="root-secret-1", **root)
    assertContains(page, LOCKED, status_code=429)
    assert int(page["Retry-After"]) > 0
    assert client.get("/admin/").status_code == 302  # still not logged in
    with window_over():
        assertRedirects(log_in(client, password="root-secret-1", **root), "/admin/")


def test_the_page_the_admin_and_the_api_share_one_count(client, api, alice):
    for n in range(4):
        assert ask_token(api, password=f"api-{n}").status_code == 401
    for n in range(3):
        assert log_in(client, password=f"page-{n}").status_code == 200
    for n in range(3):
        assert log_in(Client(), password=f"admin-{n}", path="/admin/login/").status_code == 200
    assert ask_token(api).status_code == 429
    assert log_in(client).status_code == 429
    assert log_in(Client(), path="/admin/login/").status_code == 429


def test_a_lockout_says_nothing_about_whether_the_address_has_an_account(api, alice):
    def attempts(email: str) -> list:
        answers = [ask_token(api, email=email, password=f"guess-{n}") for n in range(12)]
        return [(answer.status_code, answer.json()) for answer in answers]

    assert attempts("alice@example.com") == attempts("nobody@example.com")


def test_a_wrong_password_and_an_unknown_address_get_the_same_page(client, alice):
    known = log_in(client, password="not-hers")
    unknown = log_in(Client(), email="nobody@example.com", password="not-hers")
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors


def test_the_lockout_holds_from_every_network(api, alice):
    for n in range(10):
        assert ask_token(api, password=f"guess-{n}", REMOTE_ADDR=f"192.0.2.{n}").status_code == 401
    assert ask_token(api, REMOTE_ADDR="203.0.113.99").status_code == 429


def test_failures_from_one_network_lock_it_for_every_account(api, alice, bob, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    for n in range(5):
        assert ask_token(api, email=f"user{n}@example.com", password="guess").status_code == 401
    refused = ask_token(api)  # Alice, the right password, from that network
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(NETWORK_LOCKED)
    assert ask_token(api, REMOTE_ADDR="203.0.113.5").status_code == 200  # another network
    assert (
        ask_token(api, **{"email": "bob@example.com", "password": "bob-secret-1"}).status_code
        == 429
    )


def test_an_ipv6_client_is_counted_per_64_network(api, alice, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for host in ("1", "2", "ffff:ffff"):
        failed = ask_token(
            api, email="x@example.com", password="guess", REMOTE_ADDR=f"2001:db8::{host}"
        )
        assert failed.status_code == 401
    assert ask_token(api, REMOTE_ADDR="2001:db8::abcd").status_code == 429
    assert ask_token(api, REMOTE_ADDR="2001:db8:0:1::1").status_code == 200


def test_successful_log_ins_do_not_count(api, client, alice):
    for _ in range(25):
        assert ask_token(api).status_code == 200
    for _ in range(12):
        assertRedirects(log_in(Client()), "/dashboard/")
    for n in range(9):
        assert ask_token(api, password=f"guess-{n}").status_code == 401
    assert ask_token(api).status_code == 200
    assert ask_token(api, password="guess-9").status_code == 401
    assert ask_token(api).status_code == 429  # the tenth failure locked it


def test_an_address_in_capitals_is_the_same_account(client, alice):
    assertRedirects(log_in(client, email="Alice@Example.COM"), "/dashboard/")
    for n in range(10):
        assert log_in(Client(), email="ALICE@example.com", password=f"guess-{n}").status_code == 200
    assert log_in(Client()).status_code == 429


def test_the_limits_are_settings(api, alice, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    settings.LOGIN_WINDOW_SECONDS = 60
    assert [ask_token(api, password="guess").status_code for _ in range(3)] == [401, 401, 429]
    refused = ask_token(api)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert "1 minute." in refused.json()["detail"]


def test_lockouts_survive_many_counters_in_the_database_cache(db, settings):
    # Django's default cache size (300) forgot a third of the counters at each write beyond:
    # failed log-ins with a few hundred made-up addresses reset other lockouts.
    settings.LOGIN_FAILURES_PER_ACCOUNT = 1
    addresses = [f"made-up-{n}@example.com" for n in range(400)]
    for address in addresses:
        throttles.attempt(throttles.LoginsPerAccount(address))  # its one failure
    locked = 0
    for address in addresses:
        try:
            throttles.attempt(throttles.LoginsPerAccount(address))
        except throttles.LimitReached:
            locked += 1
    assert locked == 400


def test_simultaneous_attempts_cannot_pass_the_limit_with_redis(settings):
    host, port = require_server("redis")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{host}:{port}/0",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    passed: list[int] = []
    start = threading.Barrier(20)

    def guess(n: int) -> None:
        start.wait()
        try:
            throttles.attempt(throttles.LoginsPerAccount("target@example.com"))
        except throttles.LimitReached:
            return
        passed.append(n)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 5
    throttles.LoginsPerAccount("target@example.com").clear()
