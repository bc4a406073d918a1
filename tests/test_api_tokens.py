"""API tokens: the same one while valid, expiry, revocation (DELETE), a new password ends it."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User

ALICE = {"email": "alice@example.com", "password": "alice-secret-1"}


def ask_token(api, **fields):
    return api.post("/api/v1/auth/token", {**ALICE, **fields}, format="json")


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def works(key: str) -> bool:
    """Whether the token opens an organizer's endpoint (401 when it does not)."""
    status = bearer(key).get("/api/v1/contests").status_code
    assert status in (200, 401)
    return status == 200


def made_hours_ago(key: str, hours: float) -> None:
    Token.objects.filter(key=key).update(created=datetime.now(UTC) - timedelta(hours=hours))


def test_the_answer_keeps_its_shape_and_says_when_the_token_expires(api, alice):
    response = ask_token(api)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    token = Token.objects.get(user=alice)
    assert body["token"] == token.key
    expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires_at == token.created + timedelta(hours=720)  # token_lifetime_hours' default


def test_asking_again_gives_the_same_token_while_it_is_valid(api, alice):
    first = ask_token(api).json()
    assert ask_token(api).json() == first
    made_hours_ago(first["token"], 719)
    assert ask_token(api).json()["token"] == first["token"]
    assert works(first["token"])


def test_a_token_stops_working_when_its_lifetime_is_over(api, alice):
    key = ask_token(api).json()["token"]
    made_hours_ago(key, 720.01)
    refused = bearer(key).get("/api/v1/contests")
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "The token has expired. Ask for a new one: POST /api/v1/auth/token."
    )
    assert refused["WWW-Authenticate"] == "Bearer"


def test_asking_after_expiry_gives_a_new_token_and_the_old_one_stays_dead(api, alice):
    old = ask_token(api).json()["token"]
    made_hours_ago(old, 721)
    new = ask_token(api).json()
    assert new["token"] != old
    assert works(new["token"]) and not works(old)
    assert list(Token.objects.filter(user=alice).values_list("key", flat=True)) == [new["token"]]


def test_the_lifetime_is_a_setting(api, alice, settings):
    settings.TOKEN_LIFETIME_HOURS = 2
    key = ask_token(api).json()["token"]
    made_hours_ago(key, 1.9)
    assert works(key)
    made_hours_ago(key, 2.1)
    assert not works(key)


def test_an_old_token_in_the_header_does_not_stop_asking_for_a_new_one(api, alice):
    old = ask_token(api).json()["token"]
    made_hours_ago(old, 721)
    response = ask_token(bearer(old))
    assert response.status_code == 200
    assert works(response.json()["token"])
    assert ask_token(bearer("not-a-token")).status_code == 200


def test_delete_revokes_the_token_at_once(api, alice):
    key = ask_token(api).json()["token"]
    revoked = bearer(key).delete("/api/v1/auth/token")
    assert revoked.status_code == 204
    assert revoked.content == b""
    assert not works(key)
    assert bearer(key).delete("/api/v1/auth/token").status_code == 401
    fresh = ask_token(api).json()["token"]
    assert fresh != key and works(fresh)


def test_delete_needs_the_token_and_ends_only_its_owners(api, alice, bob):
    assert api.delete("/api/v1/auth/token").status_code == 401
    alices = ask_token(api).json()["token"]
    bobs = ask_token(api, email="bob@example.com", password="bob-secret-1").json()["token"]
    assert bearer(bobs).delete("/api/v1/auth/token").status_code == 204
    assert works(alices) and not works(bobs)


def test_a_new_password_ends_the_token_at_once(api, alice):
    key = ask_token(api).json()["token"]
    alice.set_password("a-brand-new-secret")
    assert works(key)  # not saved yet
    alice.save()
    assert not works(key)
    assert ask_token(api).status_code == 401
    assert works(ask_token(api, password="a-brand-new-secret").json()["token"])


def test_saving_an_organizer_without_a_new_password_keeps_the_token(api, alice):
    key = ask_token(api).json()["token"]
    alice.name = "Alice B."
    alice.save()
    assert works(key)


def test_a_password_re_hashed_at_log_in_is_not_a_new_password(api, alice):
    # A hash Django upgrades when it is next checked (here: a too short salt).
    weak = make_password("alice-secret-1", salt="short", hasher="md5")
    User.objects.filter(pk=alice.pk).update(password=weak)
    key = ask_token(api).json()["token"]
    assert User.objects.get(pk=alice.pk).password != weak  # upgraded at that log-in
    assert ask_token(api).json()["token"] == key
    assert works(key)


def test_the_schema_describes_revocation_and_expiry(api, db):
    schema = json.loads(api.get("/api/v1/openapi.json").content)
    operations = schema["paths"]["/api/v1/auth/token"]
    assert set(operations) >= {"post", "delete"}
    assert "204" in operations["delete"]["responses"]
    token = schema["components"]["schemas"]["Token"]
    assert token["properties"]["expires_at"]["format"] == "date-time"
    assert set(token["required"]) == {"token", "expires_at"}
