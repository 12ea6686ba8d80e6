"""Guessing passwords: five wrong tries for one username from one address lock that pair out."""

import datetime
import html

import pytest
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory, UserFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

SHOPPER_LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")


def try_password(client, url, username, password, address="203.0.113.9"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", [SHOPPER_LOGIN, ADMIN_LOGIN], ids=["shopper", "admin"])
def test_five_wrong_passwords_lock_out_even_the_right_one(client, settings, url):
    # given an account (staff, so the admin login would let it in too)
    user = StoreManagerFactory(username="anna", stores=[StoreFactory()])

    # when someone tries four wrong passwords, then a fifth
    first_four = [try_password(client, url, "anna", f"guess-{n}") for n in range(4)]
    fifth = try_password(client, url, "anna", "guess-5")
    right = try_password(client, url, "anna", DEMO_PASSWORD)

    # then the first four show the form again, the fifth and anything after is the lockout page
    assert [response.status_code for response in first_four] == [200] * 4
    assert fifth.status_code == 429
    assert right.status_code == 429
    assert 'data-testid="locked-out"' in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert settings.AXES_FAILURE_LIMIT == 5
    assert user.pk  # the account itself is untouched


def test_the_lockout_is_per_username_and_address(client):
    UserFactory(username="anna")
    UserFactory(username="bjorn")
    for n in range(5):
        try_password(client, SHOPPER_LOGIN, "anna", f"guess-{n}")

    # when anna logs in from another address, and bjorn from the attacker's address
    from_home = try_password(client, SHOPPER_LOGIN, "anna", DEMO_PASSWORD, address="198.51.100.20")
    client.logout()
    other_user = try_password(client, SHOPPER_LOGIN, "bjorn", DEMO_PASSWORD)

    # then both get in: the attacker cannot lock a shopper out everywhere, nor lock others out
    assert from_home.status_code == 302
    assert other_user.status_code == 302


def test_a_successful_login_forgets_earlier_mistakes(client):
    UserFactory(username="anna")
    for n in range(4):
        try_password(client, SHOPPER_LOGIN, "anna", f"typo-{n}")
    assert try_password(client, SHOPPER_LOGIN, "anna", DEMO_PASSWORD).status_code == 302
    client.logout()

    # when she mistypes four more times
    again = [try_password(client, SHOPPER_LOGIN, "anna", f"typo-{n}").status_code for n in range(4)]

    # then she is not locked out: the count started over
    assert again == [200] * 4
    assert try_password(client, SHOPPER_LOGIN, "anna", DEMO_PASSWORD).status_code == 302


def test_guessing_on_the_shop_login_also_locks_the_admin_login(client):
    # given a manager whose password was guessed at on the shop's login page
    StoreManagerFactory(username="gudrun", stores=[StoreFactory()])
    for n in range(5):
        try_password(client, SHOPPER_LOGIN, "gudrun", f"guess-{n}")

    # when the attacker moves to the admin login with the right password
    response = try_password(client, ADMIN_LOGIN, "gudrun", DEMO_PASSWORD)

    # then the admin refuses too
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("language", "minutes", "told"),
    [
        ("en", 30, "Please wait 30 minutes and try again."),
        ("en", 1, "Please wait 1 minute and try again."),
        ("is", 21, "Vinsamlegast bíddu í 21 mínútu og reyndu svo aftur."),
        ("nb", 45, "Vent 45 minutter og prøv igjen."),
    ],
)
def test_the_lockout_page_says_how_long_to_wait_as_configured(client, settings, language, minutes, told):
    # given a shop that locks out for `minutes`
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=minutes)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    UserFactory(username="anna")

    # when Anna's password is guessed at five times
    for n in range(5):
        locked = try_password(client, SHOPPER_LOGIN, "anna", f"guess-{n}")

    # then the page says how long to wait, in her language
    assert locked.status_code == 429
    assert told in html.unescape(locked.content.decode())
