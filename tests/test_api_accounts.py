import json

from accounts.models import User


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


def test_it_rejects_a_taken_email(api, alice):
    response = api.post(
        "/api/v1/organizers",
        {"name": "Other", "email": "alice@example.com", "password": "a-long-passphrase"},
        format="json",
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]
    assert response.json()["errors"]["email"]


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
