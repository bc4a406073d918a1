"""Organizer accounts: sign up, confirm the address, log in, log out, reset a password."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import User
from tests.web.helpers import confirmation_link, token_issued_days_ago

NEW_ORGANIZER = {"name": "Carol", "email": "carol@example.com", "password": "a-long-secret-42"}


def log_in(client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_sign_up_creates_an_account_and_asks_to_check_the_email(client, db):
    response = client.post("/accounts/signup/", NEW_ORGANIZER)
    assertRedirects(response, "/accounts/signup/done/")
    assertContains(client.get("/accounts/signup/done/"), "Check your email")
    carol = User.objects.get(email="carol@example.com")
    assert (carol.name, carol.check_password("a-long-secret-42")) == ("Carol", True)
    # Not logged in: a taken address could not be, and the answers must not differ.
    assertRedirects(client.get("/dashboard/"), "/accounts/login/?next=/dashboard/")
    assertRedirects(log_in(client, "carol@example.com", "a-long-secret-42"), "/dashboard/")
    assert client.get("/dashboard/").context["user"] == carol


def test_a_sign_up_with_an_email_already_used_changes_nothing(client, alice):
    response = client.post("/accounts/signup/", {**NEW_ORGANIZER, "email": "Alice@Example.com"})
    assertRedirects(response, "/accounts/signup/done/")  # as for a free address
    assert User.objects.count() == 1
    alice.refresh_from_db()
    assert (alice.name, alice.check_password("alice-secret-1")) == ("Alice", True)


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


# ---------------------------------------------------------------- email confirmation

NOTICE = "Until you open it, your contests do not take entries."


def open_link(client, message):
    return client.get(urlsplit(confirmation_link(message)).path)


def test_sign_up_mails_a_link_and_the_dashboard_asks_to_confirm(client, db, mailoutbox):
    client.post("/accounts/signup/", NEW_ORGANIZER)
    log_in(client, "carol@example.com", "a-long-secret-42")
    (message,) = mailoutbox
    assert message.to == ["carol@example.com"]
    assert confirmation_link(message).startswith(f"{settings.WEB_URL}/accounts/confirm/")
    dashboard = client.get("/dashboard/")
    assertContains(dashboard, NOTICE)
    assertContains(dashboard, 'action="/accounts/confirm/resend/"')


def test_the_link_asks_for_a_click_then_confirms(client, db, mailoutbox):
    client.post("/accounts/signup/", NEW_ORGANIZER)
    page = open_link(Client(), mailoutbox[0])  # on another device, signed out
    assertContains(page, "Confirm my address")
    assertContains(page, "carol@example.com")
    # Opening the link (what mail scanners do) confirms nothing yet.
    assert User.objects.get(email="carol@example.com").email_confirmed_at is None
    done = client.post(urlsplit(confirmation_link(mailoutbox[0])).path)
    assertContains(done, "Email address confirmed")
    carol = User.objects.get(email="carol@example.com")
    assert carol.email_confirmed_at is not None
    log_in(client, "carol@example.com", "a-long-secret-42")
    assertNotContains(client.get("/dashboard/"), NOTICE)


def test_a_used_link_says_so(client, db, mailoutbox):
    client.post("/accounts/signup/", NEW_ORGANIZER)
    path = urlsplit(confirmation_link(mailoutbox[0])).path
    client.post(path)
    again = client.post(path)
    assertContains(again, "not valid or was already used", status_code=400)
    assertContains(client.get(path), "not valid or was already used", status_code=400)


def test_an_expired_link_offers_a_new_one(newcomer, mailoutbox):
    nina = Client()
    nina.force_login(newcomer)
    path = f"/accounts/confirm/{token_issued_days_ago(newcomer, 4)}/"
    page = nina.post(path)
    assertContains(page, "has expired", status_code=400)
    assertContains(page, "Send me a new link", status_code=400)
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is None
    signed_out = Client().get(path)
    assertContains(signed_out, "Log in to see whether your address is confirmed", status_code=400)


def test_a_forged_link_confirms_no_one(client, newcomer, alice):
    token = token_issued_days_ago(newcomer, 0)
    other = User.objects.create_user(email="otto@example.com", password="otto-secret-1", name="O")
    forged = token.replace(f"{newcomer.pk}:", f"{other.pk}:", 1)
    assertContains(client.post(f"/accounts/confirm/{forged}/"), "not valid", status_code=400)
    assert User.objects.get(pk=other.pk).email_confirmed_at is None
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is None


def test_a_link_opened_while_someone_else_is_signed_in_confirms_its_own_address(
    bob_client, newcomer
):
    done = bob_client.post(f"/accounts/confirm/{token_issued_days_ago(newcomer, 0)}/")
    assertContains(done, "nina@example.com is confirmed")
    assert User.objects.get(pk=newcomer.pk).email_confirmed_at is not None


def test_a_confirmed_organizer_sees_no_notice(alice_client):
    assertNotContains(alice_client.get("/dashboard/"), NOTICE)


def test_send_the_link_again_once_every_few_minutes(newcomer, mailoutbox):
    nina = Client()
    nina.force_login(newcomer)
    response = nina.post("/accounts/confirm/resend/", follow=True)
    assertRedirects(response, "/dashboard/")
    assertContains(response, "We sent a new link to nina@example.com.")
    assert [message.to for message in mailoutbox] == [["nina@example.com"]]
    refused = nina.post("/accounts/confirm/resend/")
    assertContains(refused, "You can ask for another in 5 minutes.", status_code=429)
    assert 0 < int(refused["Retry-After"]) <= 300
    assert len(mailoutbox) == 1
    # The one link sent works.
    assertContains(nina.post(urlsplit(confirmation_link(mailoutbox[0])).path), "is confirmed")


def test_sending_the_link_again_is_a_post_for_a_signed_in_organizer(client, newcomer, mailoutbox):
    assertRedirects(
        client.post("/accounts/confirm/resend/"), "/accounts/login/?next=/accounts/confirm/resend/"
    )
    nina = Client()
    nina.force_login(newcomer)
    assert nina.get("/accounts/confirm/resend/").status_code == 405
    assert mailoutbox == []


def test_a_confirmed_organizer_gets_no_new_link(alice_client, mailoutbox):
    response = alice_client.post("/accounts/confirm/resend/", follow=True)
    assertContains(response, "Your email address is already confirmed.")
    assert mailoutbox == []


def test_the_email_speaks_the_language_of_the_sign_up_page(client, db, mailoutbox):
    client.post("/accounts/signup/", NEW_ORGANIZER, HTTP_ACCEPT_LANGUAGE="es")
    assert mailoutbox[0].body.startswith("Hola, Carol:")
