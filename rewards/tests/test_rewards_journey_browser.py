"""Issue 14's rewards journey in Chromium: Anna joins on her phone, earns on an online order she
collected, uses part of her points at a till where staff scan her member QR code, returns one
line at another store and sees what that line earned taken back."""

from decimal import Decimal

import pytest
import segno
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.tests.factories import DUMMY
from rewards.models import EntryKind, RewardAccount, RewardEntry
from stores.tests.factories import StockLevelFactory, StoreFactory

from .conftest import collect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    sweater = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"))
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"))
    for product in (sweater, mittens):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    StockLevelFactory(store=kringlan, product=mittens, on_hand=3)
    StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    StoreManagerFactory(username="manager-kringlan", stores=[kringlan])
    anna = UserFactory(username="anna", email="anna@example.com")
    yield {"url": live_server.url, "anna": anna, "laugavegur": laugavegur, "sweater": sweater, "mittens": mittens}
    PROVIDER_CACHE.clear()


def log_in(page, url, username, *, admin=False):
    page.goto(url + ("/admin/" if admin else reverse("accounts:login")))
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]" if admin else "[data-testid=login-submit]")
    page.wait_for_load_state("load")


def test_a_shopper_joins_earns_redeems_at_the_till_returns_a_line_and_sees_it_reversed(browser, shop):
    url, anna = shop["url"], shop["anna"]

    # given Anna, on her phone, joins the rewards
    shopper = browser.new_context(viewport=PHONE).new_page()
    log_in(shopper, url, "anna")
    shopper.goto(url + reverse("rewards:join"))
    shopper.get_by_test_id("join-button").click()
    shopper.wait_for_load_state("load")
    number = shopper.get_by_test_id("member-number").inner_text().strip()
    account = RewardAccount.objects.get(user=anna)
    assert number == account.number
    # her member QR code holds exactly her number (what a scanner types at the till)
    qr = shopper.get_by_test_id("member-qr")
    assert qr.is_visible() and qr.get_attribute("src") == segno.make(number, micro=False).svg_data_uri(scale=6)
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # when her online order (a sweater and mittens, ISK 28,980, paid online) is collected
    order = place_order(
        store=shop["laugavegur"],
        products_and_quantities=[(shop["sweater"], 1), (shop["mittens"], 1)],
        customer=anna,
        payment="dummy",
    )
    shopper.goto(url + reverse("rewards:member"))
    assert shopper.get_by_test_id("rewards-balance").inner_text() == "ISK\u00a00"  # placed earns nothing
    collect(order, StoreManagerFactory._meta.model.objects.get(username="manager-laugavegur"))

    # then she has earned 5 %: 1,249 + 199
    shopper.reload()
    assert shopper.get_by_test_id("rewards-balance").inner_text() == "ISK\u00a01,448"
    assert f"Order {order.number} handed over" in shopper.get_by_test_id("rewards-history").inner_text()

    # when staff at Laugavegur scan her QR code and take 1,000 off a till sale
    staff = browser.new_context().new_page()
    log_in(staff, url, "manager-laugavegur", admin=True)
    staff.goto(url + reverse("admin:rewards_rewardaccount_changelist"))
    staff.get_by_test_id("rewards-till").click()
    staff.fill("#id_member", number)
    staff.get_by_test_id("member-find-submit").click()
    assert staff.get_by_test_id("till-balance").inner_text() == "ISK\u00a01,448"
    staff.get_by_label("Use points as money off").check()
    staff.fill("#id_amount", "1000")
    staff.fill("#id_till_receipt_number", "K1-20261130-0042")
    staff.get_by_test_id("till-submit").click()
    assert "ISK\u00a01,000 used" in staff.locator("ul.messagelist").inner_text()
    assert staff.get_by_test_id("till-balance").inner_text() == "ISK\u00a0448"

    # and she returns the mittens at Kringlan, which a manager there takes back
    shopper.goto(url + order.get_absolute_url())
    shopper.get_by_test_id("start-return").click()
    mittens_line = order.lines.get(sku="LOPI-1")
    shopper.select_option(f"select[name=line-{mittens_line.pk}-quantity]", "1")
    shopper.select_option(f"select[name=line-{mittens_line.pk}-reason]", "does_not_fit")
    shopper.get_by_test_id("return-submit").click()
    code = shopper.get_by_test_id("return-code").inner_text().strip()
    kringlan = browser.new_context().new_page()
    log_in(kringlan, url, "manager-kringlan", admin=True)
    kringlan.goto(url + reverse("admin:returns_return_find"))
    kringlan.fill("#id_query", code)
    kringlan.get_by_test_id("find-submit").click()
    kringlan.select_option(f"select[name=line-{mittens_line.pk}-resellable]", "1")
    kringlan.get_by_test_id("receive-submit").click()
    kringlan.get_by_test_id("receive-confirm-submit").click()
    assert "refunded" in kringlan.locator("ul.messagelist").inner_text()

    # then her member page shows what the mittens earned (199) taken back at Kringlan
    shopper.goto(url + reverse("rewards:member"))
    assert shopper.get_by_test_id("rewards-balance").inner_text() == "ISK\u00a0249"
    reversed_row = shopper.locator("[data-testid=rewards-entry][data-kind=reverse]")
    assert "Kringlan" in reversed_row.inner_text() and code in reversed_row.inner_text()
    assert "-ISK\u00a0199" in reversed_row.inner_text() or "−ISK\u00a0199" in reversed_row.inner_text()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert [entry.kind for entry in RewardEntry.objects.order_by("pk")] == [
        EntryKind.EARN,
        EntryKind.REDEEM,
        EntryKind.REVERSE,
    ]
