"""Sign-ups per network: the page and the API share one count and refuse with 429."""

from accounts.models import User


def account(n: int) -> dict:
    return {"name": f"Org {n}", "email": f"org{n}@example.com", "password": "a long passphrase"}


def test_signups_from_one_network_stop_at_the_hourly_limit(client, api, settings, db):
    settings.SIGNUPS_PER_ADDRESS_HOUR = 2
    assert api.post("/api/v1/organizers", account(1), format="json").status_code == 201
    assert client.post("/accounts/signup/", account(2)).status_code == 302
    refused = api.post("/api/v1/organizers", account(3), format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "at most 2 an hour" in refused.json()["detail"]
    page = client.post("/accounts/signup/", account(4))
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert User.objects.count() == 2
    other = api.post("/api/v1/organizers", account(5), format="json", REMOTE_ADDR="203.0.113.5")
    assert other.status_code == 201
