"""Issue 14's journey in Chromium: a shopper subscribes on her account page on her phone and
confirms by the link in the confirmation e-mail (double opt-in); a marketing manager writes a
campaign with a coupon in the admin and sends it; the shopper opens the offer from the e-mail on
her phone and shows its QR code at a store's till, where staff scan it into the till page (the
QR code is read off her phone's screen, as a scanner does, and typed into the code field); the
campaign's page then counts her as sent, opened the link and redeemed in store. Every shopper
page fits 390 px."""

import io
import re
from decimal import Decimal

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory, UserFactory
from campaigns.models import Campaign, CampaignStatus, ConsentState, EmailConsent, OptInLevel
from coupons.models import Redemption
from coupons.tests.factories import CouponFactory
from storefront.tests.test_every_page_fits_a_phone_browser import PHONE, layout_problems
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_a_phone(page):
    assert layout_problems(page, PHONE["viewport"]["width"]) == [], page.url


def scan_qr(locator) -> str:
    """What a scanner reads off the screen: the QR code in the element's screenshot, decoded."""
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(locator.screenshot())))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found.text


def test_a_campaign_emails_coupon_is_redeemed_in_a_store_and_shows_in_the_figures(
    browser, live_server, settings, mailoutbox
):
    settings.SITE_URL = live_server.url
    url = live_server.url
    kringlan = StoreFactory(name="Kringlan")
    UserFactory(username="anna", email="anna@example.com")
    UserFactory(username="marketing", email="marketing@example.com", is_staff=True, is_superuser=True)
    StoreManagerFactory(username="kringlan-till", stores=[StoreFactory(name="Akureyri"), kringlan])
    coupon = CouponFactory(name="Winter wool 15 %", value=Decimal("15"))

    # given Anna, signed in on her phone, ticks "Send me offers" on her account page
    shopper = browser.new_context(**PHONE).new_page()
    shopper.goto(url + reverse("accounts:login"))
    shopper.fill("#id_username", "anna")
    shopper.fill("#id_password", DEMO_PASSWORD)
    with shopper.expect_navigation():
        shopper.get_by_test_id("login-submit").click()
    shopper.goto(url + reverse("accounts:orders"))
    shopper.get_by_test_id("offers-link").click()
    fits_a_phone(shopper)
    shopper.check("#id_subscribed")
    shopper.get_by_test_id("offers-submit").click()
    assert "confirmation link" in shopper.get_by_test_id("consent-state").inner_text()

    # when she opens the link of the confirmation e-mail and confirms
    [confirmation] = mailoutbox
    shopper.goto(re.search(r"https?://\S+/email/confirm/\S+/", confirmation.body).group(0))
    fits_a_phone(shopper)
    shopper.get_by_test_id("confirm-subscription").click()
    assert shopper.get_by_test_id("subscription-confirmed").is_visible()
    consent = EmailConsent.objects.get(email="anna@example.com")
    assert (consent.state, consent.level) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)

    # when the marketing manager writes a campaign with the coupon and sends it from the admin
    manager = browser.new_context().new_page()
    manager.goto(url + "/admin/")
    manager.fill("#id_username", "marketing")
    manager.fill("#id_password", DEMO_PASSWORD)
    manager.click("input[type=submit]")
    manager.goto(url + reverse("admin:campaigns_campaign_add"))
    manager.fill("#id_name", "Winter wool")
    manager.select_option("#id_coupon", str(coupon.pk))
    manager.fill("#id_subject_en", "Winter wool, 15 % off")
    manager.fill("#id_body_en", "Our winter wool is in.")
    manager.fill("#id_subject_is", "Vetrarull, 15 % afsláttur")
    manager.fill("#id_body_is", "Vetrarullin er komin.")
    manager.fill("#id_subject_nb", "Vinterull, 15 % rabatt")
    manager.fill("#id_body_nb", "Vinterulla er kommet.")
    manager.click("input[name=_save]")
    campaign = Campaign.objects.get(name="Winter wool")
    manager.check(f"input[name=_selected_action][value='{campaign.pk}']")
    manager.select_option("select[name=action]", "send_campaigns")
    manager.click("button[name=index]")
    assert "1 campaign is being sent." in manager.locator("ul.messagelist").inner_text()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT

    # then Anna has the campaign e-mail, with the one-click unsubscribe headers and her own code
    [offer] = [message for message in mailoutbox if message.subject == "Winter wool, 15 % off"]
    assert offer.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    code = re.search(r"Your code: ([A-Z0-9-]+)\.", offer.body).group(1)

    # when she opens the offer on her phone: her code and its QR code
    shopper.goto(re.search(r"https?://\S+/email/offer/\S+/", offer.body).group(0))
    fits_a_phone(shopper)
    assert shopper.get_by_test_id("offer-code").inner_text() == code
    assert shopper.get_by_test_id("offer-qr").is_visible()

    # and at Kringlan's till the staff open the till page, enter the sale (ISK 20,000, receipt
    # K2-000123) and scan the QR code on her phone's screen into the code field
    scanned = scan_qr(shopper.get_by_test_id("offer-qr"))
    assert scanned == code.replace("-", "")  # the code as stored: what the scanner types
    till = browser.new_context().new_page()
    till.goto(url + reverse("admin:coupons_redemption_till"))
    till.fill("#id_username", "kringlan-till")
    till.fill("#id_password", DEMO_PASSWORD)
    with till.expect_navigation():
        till.click("input[type=submit]")
    till.select_option("#id_store", str(kringlan.pk))
    till.fill("#id_purchase_amount", "20000")
    till.fill("#id_till_receipt", "k2-000123")
    till.focus("#id_code")
    till.keyboard.type(scanned)  # a scanner is a keyboard: it types what it read
    with till.expect_navigation():
        till.get_by_test_id("redeem").click()
    assert "take ISK\u00a03,000 off; the shopper pays ISK\u00a017,000" in till.locator("ul.messagelist").inner_text()
    recent = till.get_by_test_id("till-recent").inner_text()
    assert code in recent and "Kringlan" in recent and "K2-000123" in recent
    redemption = Redemption.objects.get()
    assert (redemption.store, redemption.discount, redemption.till_receipt) == (kringlan, Decimal("3000"), "K2-000123")
    # her code scanned again (a second sale) is refused at the code's field, nothing recorded
    till.fill("#id_purchase_amount", "20000")
    till.fill("#id_till_receipt", "K2-000124")
    till.fill("#id_code", scanned)
    till.get_by_test_id("redeem").click()
    assert "already been used" in till.locator("ul.errorlist").first.inner_text()
    assert Redemption.objects.count() == 1

    # then the campaign's page shows her as sent, opened the link, and redeemed in store
    manager.goto(url + reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    figures = manager.locator(".field-figures").inner_text()
    assert "1 recipients: 1 sent" in figures
    assert "1 opened the link, 1 redeemed" in figures
    assert "Redeemed in store: 1; online: 0." in figures
    manager.goto(url + reverse("admin:campaigns_campaign_changelist"))
    row = manager.locator("#result_list tbody tr").first.inner_text()
    assert "Winter wool" in row and "Sent" in row
