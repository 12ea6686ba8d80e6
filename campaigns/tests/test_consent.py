"""E-mail consent: subscribing on the account page, in a store and at checkout, double opt-in,
unsubscribing by link and by a mail client's one-click POST, and the ledger of every change."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from campaigns.models import ConsentEvent, ConsentSource, ConsentState, EmailConsent, OptInLevel
from campaigns.services import (
    ConsentError,
    ConsentLinkInvalid,
    confirm_subscription,
    confirmation_token,
    subscribe,
    unsubscribe,
    unsubscribe_token,
)
from stores.tests.factories import StoreFactory

from .factories import EmailConsentFactory

pytestmark = pytest.mark.django_db


def link_in(message):
    return re.search(r"https?://\S+/email/confirm/\S+/", message.body).group(0)


def test_a_shopper_subscribes_on_the_account_page_and_confirms_by_the_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna, signed in
    anna = UserFactory(username="anna", email="Anna@Example.com")
    client.force_login(anna)

    # when she ticks "Send me offers" on her account page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:account_offers"), {"subscribed": "on"}, follow=True)

    # then her consent is pending, given on the web, and a confirmation e-mail went to her
    consent = EmailConsent.objects.get()
    assert (consent.email, consent.state, consent.source, consent.store, consent.user) == (
        "anna@example.com",
        ConsentState.PENDING,
        ConsentSource.ACCOUNT,
        None,
        anna,
    )
    assert "confirmation link" in response.content.decode()
    [confirmation] = mailoutbox
    assert confirmation.to == ["anna@example.com"]

    # when she opens the link: a page with a button (a mail scanner opening it changes nothing)
    link = link_in(confirmation).replace("http://testserver", "")
    assert Client().get(link).status_code == 200
    assert EmailConsent.objects.get().state == ConsentState.PENDING
    response = Client().post(link)

    # then she is subscribed, confirmed opt-in, and the ledger says how
    assert response.status_code == 200
    consent.refresh_from_db()
    assert (consent.state, consent.level) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)
    assert list(consent.events.values_list("from_state", "to_state", "source", "recorded_by")) == [
        ("", ConsentState.PENDING, ConsentSource.ACCOUNT, anna.pk),
        (ConsentState.PENDING, ConsentState.SUBSCRIBED, ConsentSource.CONFIRMATION, None),
    ]
    # and the account page says so, with the box ticked
    page = client.get(reverse("campaigns:account_offers")).content.decode()
    assert "anna@example.com is subscribed." in page and "checked" in page


def test_single_opt_in_subscribes_at_once_without_a_confirmation(settings, mailoutbox):
    settings.EMAIL_CONSENT_DOUBLE_OPT_IN = False
    consent = subscribe(email="bjorn@example.is", source=ConsentSource.ACCOUNT, language="is")
    assert (consent.state, consent.level, consent.language) == (ConsentState.SUBSCRIBED, OptInLevel.SINGLE, "is")
    assert mailoutbox == []


def test_staff_record_a_consent_given_in_their_store_and_only_they_see_it(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # given two stores, each with its manager
    laugavegur, oslo = StoreFactory(name="Laugavegur"), StoreFactory(name="Grünerløkka", country="NO")
    gudrun = StoreManagerFactory(username="gudrun", stores=[laugavegur])
    StoreManagerFactory(username="kari", stores=[oslo])
    client.force_login(gudrun)

    # when Guðrún records at the till that Sigga subscribed in her store
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:campaigns_emailconsent_add"),
            {"email": "Sigga@example.is", "store": laugavegur.pk, "language": "is"},
        )

    # then the consent names the store and who recorded it, and waits for Sigga's confirmation
    assert response.status_code == 302, response.content.decode()[:2000]
    consent = EmailConsent.objects.get(email="sigga@example.is")
    assert (consent.state, consent.source, consent.store) == (ConsentState.PENDING, ConsentSource.STORE, laugavegur)
    assert consent.events.get().recorded_by == gudrun
    assert [message.to for message in mailoutbox] == [["sigga@example.is"]]
    assert "Staðfestu" in mailoutbox[0].subject  # in Sigga's language

    # and Kari, at the Oslo store, sees nothing of it; nor can Guðrún record for Oslo
    kari_client = Client()
    kari_client.force_login(StoreManagerFactory(username="kari2", stores=[oslo]))
    listing = kari_client.get(reverse("admin:campaigns_emailconsent_changelist"))
    assert listing.status_code == 200 and "sigga@example.is" not in listing.content.decode()
    refused = client.post(
        reverse("admin:campaigns_emailconsent_add"), {"email": "ola@example.no", "store": oslo.pk, "language": "nb"}
    )
    assert refused.status_code == 200 and not EmailConsent.objects.filter(email="ola@example.no").exists()


def test_bad_input_is_refused_and_writes_nothing():
    with pytest.raises(ConsentError):
        subscribe(email="not an address", source=ConsentSource.ACCOUNT, language="en")
    with pytest.raises(ConsentError):
        subscribe(email="sigga@example.is", source=ConsentSource.STORE, language="is")
    assert not EmailConsent.objects.exists() and not ConsentEvent.objects.exists()


def test_an_altered_or_outdated_confirmation_link_confirms_nothing():
    consent = subscribe(email="anna@example.com", source=ConsentSource.ACCOUNT, language="en")
    token = confirmation_token(consent)
    with pytest.raises(ConsentLinkInvalid):
        confirm_subscription(token=token[:-2] + "xx")
    # Anna unsubscribes before she opens the link: the old link no longer subscribes her
    unsubscribe(consent=consent, source=ConsentSource.ACCOUNT)
    with pytest.raises(ConsentLinkInvalid):
        confirm_subscription(token=token)
    response = Client().post(reverse("campaigns:confirm", args=[token]))
    assert response.status_code == 400
    assert EmailConsent.objects.get().state == ConsentState.UNSUBSCRIBED


def test_the_unsubscribe_link_shows_a_button_and_the_button_unsubscribes_without_login():
    consent = EmailConsentFactory(email="anna@example.com")
    url = reverse("campaigns:unsubscribe", args=[unsubscribe_token(consent_id=consent.pk)])
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(url).status_code == 200
    assert EmailConsent.objects.get().state == ConsentState.SUBSCRIBED  # opening it changes nothing

    response = browser.post(url)
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    consent.refresh_from_db()
    assert consent.state == ConsentState.UNSUBSCRIBED
    assert consent.events.get().source == ConsentSource.UNSUBSCRIBE_LINK
    # again: still unsubscribed, no second ledger row
    browser.post(url)
    assert consent.events.count() == 1


def test_a_mail_clients_one_click_post_unsubscribes_rfc_8058():
    consent = EmailConsentFactory(email="anna@example.com")
    url = reverse("campaigns:unsubscribe", args=[unsubscribe_token(consent_id=consent.pk)])
    # the mail client POSTs the form body RFC 8058 prescribes, with no cookie and no CSRF token
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    consent.refresh_from_db()
    assert consent.state == ConsentState.UNSUBSCRIBED
    assert consent.events.get().source == ConsentSource.ONE_CLICK


def test_an_altered_unsubscribe_link_changes_nothing():
    consent = EmailConsentFactory(email="anna@example.com")
    token = unsubscribe_token(consent_id=consent.pk) + "x"
    response = Client().post(reverse("campaigns:unsubscribe", args=[token]), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert EmailConsent.objects.get().state == ConsentState.SUBSCRIBED


def test_subscribing_again_while_subscribed_keeps_the_first_provenance(mailoutbox):
    store = StoreFactory()
    consent = EmailConsentFactory(email="anna@example.com", source=ConsentSource.STORE, store=store)
    again = subscribe(email="ANNA@example.com", source=ConsentSource.ACCOUNT, language="en")
    assert (again.pk, again.source, again.store) == (consent.pk, ConsentSource.STORE, store)
    assert mailoutbox == [] and not again.events.exists()


def test_a_pending_address_gets_one_confirmation_per_ten_minutes(mailoutbox, django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            subscribe(email="anna@example.com", source=ConsentSource.ACCOUNT, language="en")
    assert len(mailoutbox) == 1
