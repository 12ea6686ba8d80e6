"""A member ships her cart on a 390 px phone in Chromium, using points and ticking "send me
offers": both fit the screen, the box starts unticked, the order is less the points, her
balance is less them, and her consent waits for the confirmation e-mail."""

import os
from decimal import Decimal

import pytest
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, UserFactory
from campaigns.models import ConsentSource, ConsentState, EmailConsent
from catalog.tests.factories import ProductFactory
from delivery.tests.factories import DeliveryZoneFactory
from orders.models import Order
from rewards import services as rewards
from rewards.models import RewardAccount
from shipping.models import ShippingRate
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(settings):
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    settings.EMAIL_CONSENT_DOUBLE_OPT_IN = True
    PROVIDER_CACHE.clear()
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    PostcodeLocationFactory(
        country="IS", postcode="600", place_name="Akureyri", latitude=Decimal("65.6835"), longitude=Decimal("-18.1002")
    )
    store = StoreFactory(name="Laugavegur")
    DeliveryZoneFactory(store=store, name="Miðbær", postcodes="101-108", fee=Decimal("990"))
    warehouse = StoreFactory(name="Vöruhús", kind="warehouse", offers_pickup=False, accepts_returns=False)
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"), weight_grams=900)
    StockLevelFactory(store=store, product=sweater, on_hand=3)
    StockLevelFactory(store=warehouse, product=sweater, on_hand=10)
    ShippingRate.objects.create(country="IS", postcode_from=300, postcode_to=999, max_weight_grams=5000, fee=1490)
    anna = UserFactory(username="anna", email="anna@example.com", first_name="Anna", last_name="Jónsdóttir")
    account = rewards.join(email=anna.email, user=anna)
    rewards.earn_in_store(account=account, store=store, till_receipt_number="T-0", amount="20000", by=None)
    yield {"sweater": sweater, "account": account}
    PROVIDER_CACHE.clear()


def test_a_member_ships_using_points_and_asks_for_offers_on_her_phone(browser, live_server, shop):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("#id_username", "anna")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("load")
    page.goto(live_server.url + shop["sweater"].get_absolute_url())
    page.get_by_test_id("add-to-cart").click()
    page.wait_for_load_state("load")

    # given the delivery checkout to Akureyri, which only the warehouse ships to
    page.goto(live_server.url + reverse("checkout:delivery"))
    page.fill("#id_street", "Hafnarstræti 5")
    page.fill("#id_postcode", "600")
    page.fill("#id_city", "Akureyri")
    page.fill("#id_phone", "+354 555 1234")
    page.get_by_test_id("find-delivery").click()
    page.get_by_test_id("shipping-option").wait_for()

    # then her points are offered, and the offers box is there, unticked, all within the screen
    points = page.get_by_test_id("points")
    assert "1,000" in points.inner_text()
    offers = page.locator("input[name=send_offers]")
    assert offers.count() == 1 and not offers.is_checked()
    for box in (points.bounding_box(), offers.bounding_box()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "shipping-checkout.png"), full_page=True)

    # when she uses 600 points, ticks the box and ships it
    page.fill("#id_points", "600")
    offers.check()
    page.get_by_test_id("place-shipping").click()
    page.wait_for_url("**/payments/**")

    # then the order is less the points, her balance too, and her consent waits for confirmation
    order = Order.objects.get()
    assert order.total == Decimal("24990") + Decimal("1490") - Decimal("600")
    assert RewardAccount.objects.get(pk=shop["account"].pk).balance == Decimal("400")
    consent = EmailConsent.objects.get()
    assert (consent.email, consent.state, consent.source) == (
        "anna@example.com",
        ConsentState.PENDING,
        ConsentSource.CHECKOUT,
    )
    context.close()
