import json

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import organizer_can_receive_entries
from tests.conftest import client_for
from tests.media import entry_fields
from tests.web.helpers import (
    confirmation_link,
    confirmation_token,
    make_contest,
    token_issued_days_ago,
)


def test_it_creates_an_organizer(api, db):
    response = api.post(
        "/api/v1/organizers",
        {"name": "Carla", "email": "Carla@Example.com", "password": "a-long-passphrase"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["email"] == "carla@example.com"
    assert "password" not in response.json()
    assert User.objects.get(email="carla@example.com").check_password("a-long-passphrase")


def test_a_taken_email_makes_no_second_account(api, alice):
    response = api.post(
        "/api/v1/organizers",
        {"name": "Other", "email": "Alice@example.com", "password": "a-long-passphrase"},
        format="json",
    )
    # The answer of a free address (tests/web/test_signup_enumeration.py): nothing to learn.
    assert response.status_code == 201
    assert User.objects.filter(email="alice@example.com").count() == 1
    assert User.objects.get(email="alice@example.com").check_password("alice-secret-1")


def test_it_rejects_a_weak_password(api, db):
    response = api.post(
        "/api/v1/organizers",
        {"name": "D", "email": "d@example.com", "password": "123"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["password"]
    assert not User.objects.filter(email="d@example.com").exists()


def test_it_gives_a_token_that_authenticates(api, alice):
    response = api.post(
        "/api/v1/auth/token",
        {"email": "alice@example.com", "password": "alice-secret-1"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/contests").status_code == 200


def test_it_refuses_a_wrong_password(api, alice):
    response = api.post(
        "/api/v1/auth/token", {"email": "alice@example.com", "password": "wrong"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong email or password."}


def test_it_refuses_a_bad_token(api, db):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.get("/api/v1/contests")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_unknown_api_paths_answer_json(api, db):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_openapi_schema_describes_the_api(api, db):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    paths = json.loads(response.content)["paths"]
    for path in ("/api/v1/organizers", "/api/v1/auth/token", "/api/v1/contests/{slug}/videos"):
        assert path in paths


# ---------------------------------------------------------------- email confirmation

OLGA = {"name": "Olga", "email": "olga@example.com", "password": "a-long-passphrase"}
SINGLE_LINE = "Use one line of plain text: no line breaks or control characters."


def sign_up(api, **fields):
    return api.post("/api/v1/organizers", {**OLGA, **fields}, format="json")


def confirm(api, token: str):
    return api.post("/api/v1/organizers/confirm", {"token": token}, format="json")


def test_sign_up_mails_a_confirmation_link_and_answers_unconfirmed(api, db, mailoutbox):
    response = sign_up(api)
    assert response.status_code == 201
    assert response.json()["email_confirmed"] is False
    assert set(response.json()) >= {"id", "name", "email", "email_confirmed"}
    (message,) = mailoutbox
    assert message.to == ["olga@example.com"]
    assert "Confirm your email address" in message.subject
    assert confirmation_link(message).startswith("http://localhost:8080/accounts/confirm/")
    olga = User.objects.get(email="olga@example.com")
    assert olga.email_confirmed_at is None
    assert not organizer_can_receive_entries(olga)


def test_the_mailed_token_confirms_the_organizer(api, db, mailoutbox):
    sign_up(api)
    response = confirm(api, confirmation_token(mailoutbox[0]))
    assert response.status_code == 200
    assert response.json()["email_confirmed"] is True
    assert response.json()["email"] == "olga@example.com"
    olga = User.objects.get(email="olga@example.com")
    assert olga.email_confirmed_at is not None
    assert organizer_can_receive_entries(olga)


def test_a_token_works_once(api, db, mailoutbox):
    sign_up(api)
    token = confirmation_token(mailoutbox[0])
    assert confirm(api, token).status_code == 200
    again = confirm(api, token)
    assert again.status_code == 400
    assert again.json()["errors"]["token"] == [
        "This confirmation link is not valid or was already used."
    ]


def test_a_token_expires_after_three_days(api, newcomer):
    expired = confirm(api, token_issued_days_ago(newcomer, 3.1))
    assert expired.status_code == 400
    assert "expired" in expired.json()["detail"]
    newcomer.refresh_from_db()
    assert newcomer.email_confirmed_at is None
    assert confirm(api, token_issued_days_ago(newcomer, 2.9)).status_code == 200


def test_a_token_stops_working_when_the_address_changes(api, newcomer):
    token = token_issued_days_ago(newcomer, 0)
    User.objects.filter(pk=newcomer.pk).update(email="nina.new@example.com")
    assert confirm(api, token).status_code == 400
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is None


def test_a_token_confirms_its_own_organizer_only(api, newcomer, db):
    other = User.objects.create_user(email="otto@example.com", password="otto-secret-1", name="O")
    token = token_issued_days_ago(newcomer, 0)
    # The same token with the other organizer's id: the signature no longer matches.
    forged = token.replace(f"{newcomer.pk}:", f"{other.pk}:", 1)
    assert forged != token
    assert confirm(api, forged).status_code == 400
    assert User.objects.get(pk=other.pk).email_confirmed_at is None
    # Sent by another signed-in organizer, it still confirms the address it was mailed to.
    response = client_for(other).post("/api/v1/organizers/confirm", {"token": token}, format="json")
    assert response.json()["email"] == "nina@example.com"
    assert User.objects.get(pk=other.pk).email_confirmed_at is None
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is not None


@pytest.mark.parametrize("token", ["", "nonsense", "1:abc:1tXyz:bad-signature", "x" * 500])
def test_malformed_tokens_are_refused(api, newcomer, token):
    response = confirm(api, token)
    assert response.status_code == 400
    assert response.json()["errors"]["token"]
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is None


def test_an_inactive_organizer_cannot_confirm_nor_take_entries(api, newcomer):
    token = token_issued_days_ago(newcomer, 0)
    User.objects.filter(pk=newcomer.pk).update(is_active=False)
    assert confirm(api, token).status_code == 400
    newcomer.refresh_from_db()
    newcomer.email_confirmed_at = timezone.now()
    assert not organizer_can_receive_entries(newcomer)


def test_resending_the_link_needs_a_signed_in_organizer(api, db):
    response = api.post("/api/v1/organizers/confirmation-email")
    assert response.status_code == 401


def test_the_link_is_sent_again_at_most_once_every_few_minutes(newcomer, mailoutbox):
    nina = client_for(newcomer)
    sent = nina.post("/api/v1/organizers/confirmation-email")
    assert sent.status_code == 202
    assert "nina@example.com" in sent.json()["detail"]
    (message,) = mailoutbox
    assert message.to == ["nina@example.com"]
    refused = nina.post("/api/v1/organizers/confirmation-email")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 300
    assert "minutes" in refused.json()["detail"]
    assert len(mailoutbox) == 1
    # The link that was sent works.
    assert (
        client_for(newcomer)
        .post("/api/v1/organizers/confirm", {"token": confirmation_token(message)}, format="json")
        .json()["email_confirmed"]
    )


def test_the_sign_up_email_counts_toward_the_resend_limit(api, db, mailoutbox):
    sign_up(api)
    olga = client_for(User.objects.get(email="olga@example.com"))
    assert olga.post("/api/v1/organizers/confirmation-email").status_code == 429
    assert len(mailoutbox) == 1


def test_a_confirmed_organizer_gets_no_new_link(alice_api, mailoutbox):
    response = alice_api.post("/api/v1/organizers/confirmation-email")
    assert response.status_code == 409
    assert response.json()["detail"] == "Your email address is already confirmed."
    assert mailoutbox == []


def test_an_unconfirmed_organizer_signs_in_and_creates_contests(api, db, mailoutbox):
    sign_up(api)
    token = api.post("/api/v1/auth/token", OLGA, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post(
        "/api/v1/contests",
        {"name": "Olga's cup", "slug": "olgas-cup", "starts_at": "2030-01-01T00:00:00Z",
         "ends_at": "2030-02-01T00:00:00Z"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201


def test_a_sign_up_stands_when_the_mail_server_fails(api, db, settings):
    settings.EMAIL_BACKEND = "tests.test_api_accounts.FailingBackend"
    response = sign_up(api)
    assert response.status_code == 201
    olga = client_for(User.objects.get(email="olga@example.com"))
    # The failed email does not count: asking again sends at once (and fails again here).
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert olga.post("/api/v1/organizers/confirmation-email").status_code == 202


class FailingBackend:
    """A mail server that is down."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.parametrize(
    "name", ["Olga\r\nBcc: x@example.com", "Ol\nga", "Ol\x00ga", "Ol\x1bga", "Olga \u202etxt.exe"]
)
def test_an_organizer_name_with_control_characters_is_refused(api, db, mailoutbox, name):
    response = sign_up(api, name=name)
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [SINGLE_LINE]}
    assert not User.objects.exists()
    assert mailoutbox == []


def test_the_schema_describes_confirmation(api, db):
    schema = json.loads(api.get("/api/v1/openapi.json").content)
    assert "/api/v1/organizers/confirm" in schema["paths"]
    assert "/api/v1/organizers/confirmation-email" in schema["paths"]
    organizer = schema["components"]["schemas"]["Organizer"]
    assert organizer["properties"]["email_confirmed"]["type"] == "boolean"
    assert "email_confirmed" in organizer["required"]


def test_an_unconfirmed_organizers_contest_takes_entries_once_confirmed(api, newcomer, clips):
    make_contest(newcomer, "ninas-cup")
    refused = api.post("/api/v1/contests/ninas-cup/videos", entry_fields(clips[".avi"]))
    assert refused.status_code == 409
    assert "has not confirmed their email address" in refused.json()["detail"]
    assert confirm(api, token_issued_days_ago(newcomer, 0)).status_code == 200
    accepted = api.post("/api/v1/contests/ninas-cup/videos", entry_fields(clips[".avi"]))
    assert accepted.status_code == 202, accepted.json()
