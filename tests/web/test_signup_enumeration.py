"""Signing up tells nobody whether an address has an account: the page and the API answer the
same for a taken and a free address; the owner of a taken one is emailed instead."""

import re

import pytest
from django.test import Client
from pytest_django.asserts import assertContains
from rest_framework.test import APIClient

from accounts.models import User
from tests.web.helpers import CONFIRMATION_LINK

# The same length, so that answers naming them can be compared byte for byte.
TAKEN, FREE = "alice@example.com", "carol@example.com"
PER_RESPONSE = re.compile(rb'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"')


def account(email: str, **fields) -> dict:
    return {"name": "Carol", "email": email, "password": "a-long-secret-42", **fields}


def answer(response, email: str) -> tuple:
    """Everything a client sees, with the address typed and per-response tokens masked."""
    headers = sorted((k, v.replace(email, "@")) for k, v in response.headers.items())
    body = PER_RESPONSE.sub(b"", response.content.replace(email.encode(), b"@"))
    return response.status_code, headers, sorted(response.cookies), body


def test_the_page_answers_the_same_for_a_taken_and_a_free_address(alice):
    taken, free = Client(), Client()
    assert answer(taken.post("/accounts/signup/", account(TAKEN)), TAKEN) == answer(
        free.post("/accounts/signup/", account(FREE)), FREE
    )
    after_taken = taken.get("/accounts/signup/done/")
    assertContains(after_taken, "Check your email")
    assert answer(after_taken, TAKEN) == answer(free.get("/accounts/signup/done/"), FREE)
    assert User.objects.filter(email=FREE).exists()


def test_the_api_answers_the_same_for_a_taken_and_a_free_address(alice):
    taken = APIClient().post("/api/v1/organizers", account(TAKEN), format="json")
    free = APIClient().post("/api/v1/organizers", account(FREE), format="json")
    assert answer(taken, TAKEN) == answer(free, FREE)
    assert free.status_code == 201
    assert free.json() == {
        "id": None,
        "name": "Carol",
        "email": FREE,
        "email_confirmed": False,
        "detail": f"Check your email: we sent a message to {FREE}. "
        "Open the link in it to confirm your address.",
    }


@pytest.mark.parametrize("password", ["123", "password", ""])
def test_errors_are_the_same_for_a_taken_and_a_free_address(alice, password):
    taken = APIClient().post("/api/v1/organizers", account(TAKEN, password=password))
    free = APIClient().post("/api/v1/organizers", account(FREE, password=password))
    assert taken.status_code == 400
    assert answer(taken, TAKEN) == answer(free, FREE)
    page_taken = Client().post("/accounts/signup/", account(TAKEN, password=password))
    page_free = Client().post("/accounts/signup/", account(FREE, password=password))
    assert page_taken.status_code == 200
    assert answer(page_taken, TAKEN) == answer(page_free, FREE)


def test_the_owner_of_a_taken_address_is_told_and_pointed_to_password_reset(alice, mailoutbox):
    Client().post("/accounts/signup/", account("Alice@Example.com", name="Mallory"))
    (notice,) = mailoutbox
    assert notice.to == [TAKEN]
    assert notice.subject == "Someone tried to sign up to VideoShare with your address"
    assert "already has one" in notice.body
    assert "http://localhost:8080/accounts/password_reset/" in notice.body
    assert not CONFIRMATION_LINK.search(notice.body)
    alice.refresh_from_db()
    assert (alice.name, alice.check_password("alice-secret-1")) == ("Alice", True)
    assert User.objects.count() == 1


def test_a_free_address_gets_the_confirmation_link(db, mailoutbox):
    APIClient().post("/api/v1/organizers", account(FREE), format="json")
    (message,) = mailoutbox
    assert message.to == [FREE]
    assert CONFIRMATION_LINK.search(message.body)


def test_the_owner_is_told_at_most_once_an_hour(alice, mailoutbox):
    for client in (Client(), Client(REMOTE_ADDR="203.0.113.8")):
        assert client.post("/accounts/signup/", account(TAKEN)).status_code == 302
    assert APIClient().post("/api/v1/organizers", account(TAKEN)).status_code == 201
    assert len(mailoutbox) == 1


def test_signing_up_with_an_unconfirmed_address_gets_no_confirmation_link(newcomer, mailoutbox):
    # Whoever made that account may not be the mailbox's owner: signing up again must not
    # hand the owner a link that confirms someone else's account.
    Client().post("/accounts/signup/", account("nina@example.com"))
    (notice,) = mailoutbox
    assert notice.to == ["nina@example.com"]
    assert not CONFIRMATION_LINK.search(notice.body)
    newcomer.refresh_from_db()
    assert newcomer.email_confirmed_at is None and newcomer.check_password("nina-secret-1")


def test_an_inactive_account_gets_no_email(alice, mailoutbox):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert Client().post("/accounts/signup/", account(TAKEN)).status_code == 302
    assert mailoutbox == []
