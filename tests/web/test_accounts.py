"""Organizer accounts: sign up, log in, log out, reset a forgotten password."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import User

NEW_ORGANIZER = {"name": "Carol", "email": "carol@example.com", "password": "a-long-secret-42"}


def log_in(client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_sign_up_creates_an_account_and_logs_in(client, db):
    response = client.post("/accounts/signup/", NEW_ORGANIZER)
    assertRedirects(response, "/dashboard/")
    carol = User.objects.get(email="carol@example.com")
    assert (carol.name, carol.check_password("a-long-secret-42")) == ("Carol", True)
    assert client.get("/dashboard/").context["user"] == carol


def test_it_rejects_a_sign_up_with_an_email_already_used(client, alice):
    response = client.post("/accounts/signup/", {**NEW_ORGANIZER, "email": "Alice@Example.com"})
    assert response.status_code == 200
    assertContains(response, "An account with this email already exists.")
    assert list(response.context["form"].errors) == ["email"]
    assert User.objects.count() == 1


def test_it_rejects_a_sign_up_with_a_weak_password(client, db):
    response = client.post("/accounts/signup/", {**NEW_ORGANIZER, "password": "12345678"})
    assert list(response.context["form"].errors) == ["password"]
    assert not User.objects.exists()


def test_an_organizer_logs_in_with_email_and_password(client, alice):
    response = log_in(client, "alice@example.com", "alice-secret-1")
    assertRedirects(response, "/dashboard/")
    assert client.get("/dashboard/").context["user"] == alice


def test_it_rejects_a_wrong_password(client, alice):
    response = log_in(client, "alice@example.com", "not-her-password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assertRedirects(client.get("/dashboard/"), "/accounts/login/?next=/dashboard/")


def test_log_out_is_a_post_and_ends_the_session(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    assertRedirects(alice_client.post("/accounts/logout/"), "/")
    assertRedirects(alice_client.get("/dashboard/"), "/accounts/login/?next=/dashboard/")


# ---------------------------------------------------------------- password reset


def reset_link(message) -> str:
    return re.search(r"https?://\S+", message.body)[0]


def test_password_reset_mails_one_link_on_the_web_url(client, alice, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assertRedirects(response, "/accounts/password_reset/done/")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert reset_link(mailoutbox[0]).startswith(f"{settings.WEB_URL}/accounts/reset/")
    assert reset_link(mailoutbox[0]).startswith("http://localhost:8080/accounts/reset/")


def test_the_reset_link_sets_a_new_password(client, alice, mailoutbox):
    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    form = client.get(urlsplit(reset_link(mailoutbox[0])).path, follow=True)
    new = {"new_password1": "brand-new-secret-7", "new_password2": "brand-new-secret-7"}
    assertRedirects(client.post(form.redirect_chain[-1][0], new), "/accounts/reset/done/")
    assertRedirects(log_in(client, "alice@example.com", "brand-new-secret-7"), "/dashboard/")
    assert log_in(Client(), "alice@example.com", "alice-secret-1").status_code == 200


def test_password_reset_for_an_unknown_email_sends_nothing(client, alice, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assertRedirects(response, "/accounts/password_reset/done/")
    assert mailoutbox == []
