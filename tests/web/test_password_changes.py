"""A new password, however it is set, ends the API token made with the old one at once."""

import re
from urllib.parse import urlsplit

from pytest_django.asserts import assertRedirects
from rest_framework.test import APIClient

ALICE = {"email": "alice@example.com", "password": "alice-secret-1"}
NEW = "brand-new-secret-7"


def api_token(password: str = ALICE["password"]) -> str:
    response = APIClient().post(
        "/api/v1/auth/token", {**ALICE, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    status = client.get("/api/v1/contests").status_code
    assert status in (200, 401)
    return status == 200


def reset_password(client, mailoutbox, email: str, password: str):
    """Ask for the link, follow it, choose a password, as the owner of the mailbox does."""
    assertRedirects(
        client.post("/accounts/password_reset/", {"email": email}), "/accounts/password_reset/done/"
    )
    link = re.search(r"https?://\S+", mailoutbox[-1].body)[0]
    form = client.get(urlsplit(link).path, follow=True)
    new = {"new_password1": password, "new_password2": password}
    return client.post(form.redirect_chain[-1][0], new)


def test_a_password_reset_ends_the_api_token(client, alice, mailoutbox):
    key = api_token()
    done = reset_password(client, mailoutbox, "alice@example.com", NEW)
    assertRedirects(done, "/accounts/reset/done/")
    assert not works(key)
    fresh = api_token(NEW)
    assert fresh != key and works(fresh)


def test_a_password_change_ends_the_api_token(alice_client, alice):
    key = api_token()
    changed = alice_client.post(
        "/accounts/password_change/",
        {"old_password": ALICE["password"], "new_password1": NEW, "new_password2": NEW},
    )
    assertRedirects(changed, "/accounts/password_change/done/", fetch_redirect_response=False)
    assert not works(key)
    assert works(api_token(NEW))


def test_logging_out_of_the_site_keeps_the_api_token(alice_client, alice):
    # Sessions and tokens are separate credentials: a script keeps running when its owner
    # logs out of the browser. DELETE /api/v1/auth/token ends a token.
    key = api_token()
    assertRedirects(alice_client.post("/accounts/logout/"), "/")
    assert works(key)


def test_a_reset_lets_a_locked_out_owner_back_in(client, alice, mailoutbox, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    guesser = APIClient(REMOTE_ADDR="198.51.100.7")
    for n in range(3):
        wrong = {**ALICE, "password": f"guess-{n}"}
        assert guesser.post("/api/v1/auth/token", wrong, format="json").status_code == 401
    locked = APIClient().post("/api/v1/auth/token", ALICE, format="json")
    assert locked.status_code == 429
    # Only the mailbox's owner can do this: the address's failed log-ins are forgotten.
    reset_password(client, mailoutbox, "alice@example.com", NEW)
    assert works(api_token(NEW))
