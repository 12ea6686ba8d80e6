"""The endless aisle's ship-to-store, clicked through in a real browser: a shopper scans a shelf
label at Kringlan on her phone (390 × 844), finds her size only at Smáralind and orders it to
Kringlan by transfer; Smáralind's manager sends it, Kringlan's receives it; she gets the "ready
for pickup" e-mail and collects it. The order records the channel "in store", the scan and both
stores."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog import services as catalog_services
from catalog.tests.factories import ProductFactory, sizes
from instore.context import link_path
from instore.models import SaleAttribution, ShelfScan
from orders.models import Channel, Order, OrderStatus
from pickup.selectors import pickup_of
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory
from transfers.models import Transfer, TransferStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.TRANSFER_DEFAULT_LEAD_DAYS = 2
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    smaralind = StoreFactory(name="Smáralind", slug="smaralind", postcode="201", city="Kópavogur")
    boots = ProductFactory(name="Rain boots", slug="rain-boots", sku="BOOT", price=Decimal("12990"))
    size_38, size_39 = sizes("38", "39")
    boots_38 = catalog_services.create_variant(parent=boots, sku="BOOT-38", values=[size_38])
    boots_39 = catalog_services.create_variant(parent=boots, sku="BOOT-39", values=[size_39])
    StockLevelFactory(store=kringlan, product=boots_39, on_hand=4)
    StockLevelFactory(store=smaralind, product=boots_38, on_hand=2)
    StoreManagerFactory(username="manager-smaralind", stores=[smaralind])
    StoreManagerFactory(username="manager-kringlan", stores=[kringlan])
    return {
        "url": live_server.url,
        "kringlan": kringlan,
        "smaralind": smaralind,
        "boots": boots,
        "boots_38": boots_38,
    }


def fits(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def log_in(browser, url, username):
    page = browser.new_context().new_page()
    page.goto(url + reverse("admin:index"))
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    return page


def units(store, product):
    level = StockLevel.objects.filter(store=store, product=product).first()
    return (level.on_hand, level.reserved) if level else None


def test_a_size_only_at_smaralind_is_sent_to_kringlan_and_collected_there(browser, shop, mailoutbox):
    url, kringlan, smaralind, boots_38 = shop["url"], shop["kringlan"], shop["smaralind"], shop["boots_38"]
    shopper = browser.new_context(**PHONE).new_page()

    # given a shopper at Kringlan who scans the rain boots' shelf label
    shopper.goto(url + link_path(store=kringlan, product=shop["boots"]))
    shopper.wait_for_url(re.compile(r"/products/rain-boots/"))
    assert ShelfScan.objects.filter(store=kringlan, product=shop["boots"]).exists()

    # when she picks size 38, which Kringlan does not have
    shopper.locator("label.variant-option:has(input[data-sku='BOOT-38'])").click()
    shopper.wait_for_url(re.compile(r"variant="))
    assert shopper.get_by_test_id("sku").inner_text().strip() == "BOOT-38"

    # then the page says Smáralind has it, here by transfer, and she has it sent here
    aisle = shopper.get_by_test_id("aisle-transfer")
    assert "Smáralind" in aisle.inner_text()
    assert fits(shopper)
    aisle.get_by_test_id("aisle-transfer-order").click()

    # and the page says where it comes from and when it can be collected
    assert "Sent from Smáralind to Kringlan" in shopper.get_by_test_id("transfer-arrival").inner_text()
    assert fits(shopper)
    shopper.fill("input[name=name]", "Anna Jónsdóttir")
    shopper.fill("input[name=email]", "anna@example.com")
    shopper.fill("input[name=phone]", "+354 555 1234")
    shopper.get_by_test_id("place-transfer-order").click()

    # then her order page says it is on its way, and one boot is reserved at Smáralind
    transfer_note = shopper.get_by_test_id("order-transfer")
    assert "On its way to Kringlan from Smáralind, expected" in transfer_note.inner_text()
    assert fits(shopper)
    order = Order.objects.get()
    transfer = Transfer.objects.get()
    assert (order.store, transfer.source, transfer.destination) == (kringlan, smaralind, kringlan)
    assert order.channel == Channel.IN_STORE
    attribution = SaleAttribution.objects.get(order=order)
    assert (attribution.store, attribution.scan.product) == (kringlan, shop["boots"])
    assert units(smaralind, boots_38) == (2, 1)
    mailoutbox.clear()  # the "order received" e-mail

    # when Smáralind's manager sends it from the outgoing transfers
    smaralind_staff = log_in(browser, url, "manager-smaralind")
    smaralind_staff.goto(url + reverse("admin:transfers_transfer_changelist") + "?direction=out")
    row = smaralind_staff.locator(f"tr:has-text('{transfer.number}')")
    assert order.number in row.inner_text()
    row.locator("input.action-select").check()
    smaralind_staff.select_option("select[name=action]", "send")
    smaralind_staff.click("button[name=index]")
    assert "1 transfer sent" in smaralind_staff.locator("ul.messagelist").inner_text()
    assert units(smaralind, boots_38) == (1, 0)  # in the van: at neither store
    assert units(kringlan, boots_38) is None

    # and Kringlan's manager receives it from the incoming transfers
    kringlan_staff = log_in(browser, url, "manager-kringlan")
    kringlan_staff.goto(url + reverse("admin:transfers_transfer_changelist") + "?direction=in")
    kringlan_staff.locator(f"tr:has-text('{transfer.number}') input.action-select").check()
    kringlan_staff.select_option("select[name=action]", "receive")
    kringlan_staff.click("button[name=index]")
    assert "ready for pickup" in kringlan_staff.locator("ul.messagelist").inner_text()

    # then the shopper gets the "ready for pickup" e-mail, and her order page says it is ready
    assert Transfer.objects.get().status == TransferStatus.RECEIVED
    assert units(kringlan, boots_38) == (1, 1)
    [ready] = mailoutbox
    assert ready.to == ["anna@example.com"] and order.number in ready.subject
    code = pickup_of(order).code
    assert code in ready.body
    link = re.search(r"(http://\S+/orders/\S+/)", ready.body).group(1)
    shopper.goto(link)
    assert "Ready for pickup" in shopper.get_by_test_id("order-status").inner_text()
    assert "Arrived at Kringlan from Smáralind" in shopper.get_by_test_id("order-transfer").inner_text()

    # when she shows her code at Kringlan and the manager hands the boots over
    kringlan_staff.goto(url + reverse("admin:orders_order_change", args=[order.pk]))
    kringlan_staff.get_by_test_id("collect-order").click()
    kringlan_staff.fill("input[name=code]", code)
    kringlan_staff.get_by_test_id("till-receipt-input").fill("4711")  # paid at pickup: at the till
    kringlan_staff.get_by_test_id("collect-submit").click()
    assert "handed over" in kringlan_staff.locator("ul.messagelist").inner_text()

    # then the order is collected, and the boot has left Kringlan
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert units(kringlan, boots_38) == (0, 0)
    assert units(smaralind, boots_38) == (1, 0)
