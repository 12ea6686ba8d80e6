"""The member page on a 390 px phone in Chromium: the member number on one line (staff read it
off the screen at the till), the history and the coupons inside the screen's width."""

import os
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, UserFactory
from rewards import services
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("language", ["en", "is"])
def test_the_member_page_fits_a_phone_with_the_number_on_one_line(browser, live_server, language):
    # given Anna, a member with a history of purchases in a store with a long name
    anna = UserFactory(username="anna", email="anna@example.com")
    account = services.join(email=anna.email, user=anna)
    store = StoreFactory(name="Hafnarfjörður – Fjarðargata", slug="hafnarfjordur")
    for index in range(3):
        services.earn_in_store(
            account=account, store=store, till_receipt_number=f"2026-12-01/T-{index}", amount=Decimal("12990"), by=None
        )
    services.redeem_at_till(account=account, store=store, amount="500", till_receipt_number="R-1", by=None)
    # when she opens her member page on her phone
    context = browser.new_context(viewport=PHONE, locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("#id_username", "anna")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("load")
    page.goto(live_server.url + reverse("rewards:member"))
    # then the number is on one line, inside the screen, and nothing scrolls sideways
    number = page.get_by_test_id("member-number")
    assert number.inner_text() == account.number
    box = number.bounding_box()
    line_height = page.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.3",
        number.element_handle(),
    )
    assert box["height"] < 1.5 * line_height, "the member number wraps"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    qr = page.get_by_test_id("member-qr").bounding_box()
    assert qr["x"] >= 0 and qr["x"] + qr["width"] <= PHONE["width"]
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"member-{language}.png"), full_page=True)
    context.close()
