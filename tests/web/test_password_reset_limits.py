"""Requests for a password reset link are limited per address and per client network; the
answers are the same whether the address has an account or not."""

import re

from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

TOO_MANY = "Too many password reset requests for this email address. Please try again in"
NETWORK = "Too many password reset requests from your network. Please try again in"
PER_RESPONSE = re.compile(rb'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"')


def page_text(response, email: str) -> bytes:
    """The page without what changes on every answer (form tokens, nonces) or names the
    address typed."""
    return PER_RESPONSE.sub(b"", response.content.replace(email.encode(), b"@"))


def ask_reset(client, email: str, **extra):
    return client.post("/accounts/password_reset/", {"email": email}, **extra)


def test_requests_for_one_address_stop_at_the_hourly_limit(alice, mailoutbox):
    for n in range(5):  # password_resets_per_account_hour
        assertRedirects(
            ask_reset(Client(), "alice@example.com", REMOTE_ADDR=f"192.0.2.{n}"),
            "/accounts/password_reset/done/",
        )
    assert len(mailoutbox) == 5
    refused = ask_reset(Client(), "Alice@Example.com", REMOTE_ADDR="203.0.113.1")
    assertContains(refused, TOO_MANY, status_code=429)
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert len(mailoutbox) == 5


def test_an_address_without_an_account_gets_the_same_answers(alice, mailoutbox):
    def answers(email: str) -> list:
        client = Client()
        responses = [ask_reset(client, email, REMOTE_ADDR=f"192.0.2.{n}") for n in range(6)]
        return [(r.status_code, r.get("Location"), page_text(r, email)) for r in responses]

    assert answers("alice@example.com") == answers("nobod@example.com")
    assert {message.to[0] for message in mailoutbox} == {"alice@example.com"}


def test_requests_from_one_network_stop_at_the_hourly_limit(db, mailoutbox, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS_HOUR = 3
    client = Client()
    for n in range(3):
        assert ask_reset(client, f"user{n}@example.com").status_code == 302
    assertContains(ask_reset(client, "user9@example.com"), NETWORK, status_code=429)
    other = ask_reset(client, "user9@example.com", REMOTE_ADDR="203.0.113.5")
    assertRedirects(other, "/accounts/password_reset/done/")


def test_a_malformed_address_is_not_counted(db, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS_HOUR = 1
    client = Client()
    assert ask_reset(client, "not an address").status_code == 200
    assert ask_reset(client, "").status_code == 200
    assert ask_reset(client, "carol@example.com").status_code == 302
