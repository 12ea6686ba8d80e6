"""Issue 12's journey in Chromium: a shopper starts a return online for one of her two lines, a
manager at another store than the pickup store takes it back, marks the unit resellable and
refunds it to the Dummy payment; the shopper sees it on her order page (a phone too) and gets the
return receipt; the returning store's stock went up by one. And an exchange: the shopper asks for
one online, the manager at the other store swaps the size from that store's stock, and the shopper
sees what came back and what went out on her phone."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.models import User
from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.models import Payment
from payment.tests.factories import DUMMY
from returns.models import ReturnReason, ReturnStatus
from returns.services import LineToReturn, receive_return
from stores.models import StockLevel
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
    pickup_manager = StoreManagerFactory(username="manager-laugavegur", stores=[laugavegur])
    StoreManagerFactory(username="manager-kringlan", stores=[kringlan])
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1), (mittens, 1)], payment="dummy")
    collect(order, pickup_manager)
    yield {"url": live_server.url, "order": order, "kringlan": kringlan, "mittens": mittens}
    PROVIDER_CACHE.clear()


def test_a_return_started_online_is_taken_back_at_another_store_and_refunded(browser, shop, mailoutbox):
    url, order, kringlan = shop["url"], shop["order"], shop["kringlan"]

    # given Anna, on her phone, starts a return of the mittens (one of her two lines)
    shopper = browser.new_context(viewport=PHONE).new_page()
    shopper.goto(url + order.get_absolute_url())
    shopper.get_by_test_id("start-return").click()
    mittens_line = order.lines.get(sku="LOPI-1")
    shopper.select_option(f"select[name=line-{mittens_line.pk}-quantity]", "1")
    shopper.select_option(f"select[name=line-{mittens_line.pk}-reason]", "does_not_fit")
    shopper.get_by_test_id("return-submit").click()
    code = shopper.get_by_test_id("return-code").inner_text().strip()
    assert shopper.get_by_test_id("return-qr").is_visible()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert any(code in message.body for message in mailoutbox)

    # when the manager at Kringlan (not the pickup store) scans the return's QR code
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-kringlan")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(url + reverse("admin:returns_return_changelist"))
    staff.get_by_test_id("take-return").first.click()
    staff.fill("#id_query", f"O2O-RETURN:{code}")
    staff.get_by_test_id("find-submit").click()

    # and checks the pair in as resellable, sees the refund, and confirms it
    staff.select_option(f"select[name=line-{mittens_line.pk}-resellable]", "1")
    staff.get_by_test_id("receive-submit").click()
    assert "Refund: ISK\u00a03,990" in staff.get_by_test_id("receive-confirm").inner_text()
    staff.get_by_test_id("receive-confirm-submit").click()
    assert "refunded" in staff.locator("ul.messagelist").inner_text()

    # then the money went back to the Dummy payment, and Kringlan has one more pair on sale
    assert Payment.objects.get(order=order).refunded_amount == Decimal("3990")
    assert StockLevel.objects.get(store=kringlan, product=shop["mittens"]).on_hand == 4

    # and Anna sees the return refunded on her order page, with its receipt
    shopper.goto(url + order.get_absolute_url())
    returns = shopper.get_by_test_id("order-returns").inner_text()
    assert code in returns and "ISK\u00a03,990 refunded" in returns and "Kringlan" in returns
    assert f"Return {code}: ISK\u00a03,990 refunded" in shopper.get_by_test_id("order-timeline").inner_text()
    with shopper.expect_navigation(wait_until="load"):  # the receipt's own stylesheet applied
        shopper.get_by_test_id("return-receipt-link").click()
    assert "−ISK\u00a03,990" in shopper.get_by_test_id("return-receipt-total").inner_text()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # and the return receipt e-mail, once
    receipts = [message for message in mailoutbox if message.subject.startswith("Your return receipt")]
    assert len(receipts) == 1 and "Kringlan" in receipts[0].body


def test_a_size_is_exchanged_at_another_store_and_the_shopper_sees_both_on_a_phone(browser, shop, mailoutbox):
    url, order, kringlan = shop["url"], shop["order"], shop["kringlan"]
    # given the sweater Anna bought comes in L too, and Kringlan has one
    sweater_line = order.lines.get(sku="HEKLA-1")
    large = ProductFactory(
        parent=sweater_line.product, name="Hekla lopapeysa L", sku="HEKLA-1-L", price=Decimal("24990")
    )
    StockLevelFactory(store=kringlan, product=large, on_hand=1)

    # when Anna, on her phone, asks to exchange the sweater
    shopper = browser.new_context(viewport=PHONE).new_page()
    shopper.goto(url + order.get_absolute_url())
    shopper.get_by_test_id("start-return").click()
    shopper.select_option(f"select[name=line-{sweater_line.pk}-quantity]", "1")
    shopper.select_option(f"select[name=line-{sweater_line.pk}-reason]", "does_not_fit")
    shopper.get_by_label("Exchange for another size or item").check()
    shopper.get_by_test_id("return-submit").click()
    code = shopper.get_by_test_id("return-code").inner_text().strip()

    # and the manager at Kringlan types the return code, takes the sweater back and gives the L
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-kringlan")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(url + reverse("admin:returns_return_find"))
    staff.fill("#id_query", code)
    staff.get_by_test_id("find-submit").click()
    assert staff.locator("#id_resolution").input_value() == "exchange"
    staff.select_option(f"select[name=line-{sweater_line.pk}-resellable]", "1")
    staff.fill(f"input[name=line-{sweater_line.pk}-exchange]", "HEKLA-1-L")
    staff.get_by_test_id("receive-submit").click()
    assert "Nothing to pay or refund." in staff.get_by_test_id("exchange-difference").inner_text()
    staff.get_by_test_id("receive-confirm-submit").click()
    assert f"Exchange {code} is recorded: nothing to pay or refund." in staff.locator("ul.messagelist").inner_text()

    # then Kringlan has Anna's sweater on sale and no L left; no money moved
    assert StockLevel.objects.get(store=kringlan, product=large).on_hand == 0
    assert StockLevel.objects.get(store=kringlan, product=sweater_line.product).on_hand == 1
    assert Payment.objects.get(order=order).refunded_amount == 0

    # and Anna's order page shows what came back and what went out, on her phone too
    shopper.goto(url + order.get_absolute_url())
    returns = shopper.get_by_test_id("order-returns").inner_text()
    assert "Hekla lopapeysa L" in returns and "Nothing to pay or refund." in returns
    assert f"Exchange {code} at Kringlan" in shopper.get_by_test_id("order-timeline").inner_text()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with shopper.expect_navigation(wait_until="load"):
        shopper.get_by_test_id("return-receipt-link").click()
    assert "Hekla lopapeysa L" in shopper.get_by_test_id("return-receipt-exchange").inner_text()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert any("exchange" in message.body for message in mailoutbox if "return receipt" in message.subject)


def test_a_unit_held_for_inspection_is_decided_in_the_admin(browser, shop):
    url, order, kringlan = shop["url"], shop["order"], shop["kringlan"]
    # given the mittens came back to Kringlan held for inspection
    manager = User.objects.get(username="manager-kringlan")
    mittens_line = order.lines.get(sku="LOPI-1")
    order_return = receive_return(
        order=order,
        store=kringlan,
        lines=[LineToReturn(order_line_id=mittens_line.pk, quantity=1, reason=ReturnReason.DOES_NOT_FIT, to_inspect=1)],
        by=manager,
    )
    before = StockLevel.objects.get(store=kringlan, product=shop["mittens"]).on_hand

    # when the manager opens the return and records the pair as resellable
    staff = browser.new_context().new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-kringlan")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")
    staff.goto(url + reverse("admin:returns_return_change", args=[order_return.pk]))
    inspect = staff.get_by_test_id("inspect-form")
    assert staff.evaluate("document.querySelector('[data-testid=inspect-form]').tagName") == "FORM"
    inspect.locator("input[name=resellable]").fill("1")
    inspect.locator("input[type=submit]").click()

    # then it is recorded (not refused by the change form), on sale, and the return closed
    assert "The inspected units are recorded." in staff.locator("ul.messagelist").inner_text()
    order_return.refresh_from_db()
    assert order_return.status == ReturnStatus.CLOSED
    assert StockLevel.objects.get(store=kringlan, product=shop["mittens"]).on_hand == before + 1


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_take_back_screen_fits_a_phone(browser, shop, language):
    url, order = shop["url"], shop["order"]
    # given the manager at Kringlan on a phone, the admin in Icelandic or Norwegian
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": url}])
    staff = context.new_page()
    staff.goto(url + "/admin/")
    staff.fill("#id_username", "manager-kringlan")
    staff.fill("#id_password", DEMO_PASSWORD)
    staff.click("input[type=submit]")

    # when the order is looked up and its take-back screen opens, and a refund is shown
    staff.goto(url + reverse("admin:returns_return_find"))
    staff.fill("#id_query", order.number)
    staff.fill("#id_contact", order.contact_email)
    with staff.expect_navigation(wait_until="load"):  # the screen's own stylesheet applied
        staff.get_by_test_id("find-submit").click()
    mittens_line = order.lines.get(sku="LOPI-1")
    assert staff.get_by_test_id("receive-form").is_visible()
    widths = [staff.evaluate("document.documentElement.scrollWidth")]
    staff.select_option(f"select[name=line-{mittens_line.pk}-quantity]", "1")
    staff.select_option(f"select[name=line-{mittens_line.pk}-reason]", "does_not_fit")
    staff.select_option(f"select[name=line-{mittens_line.pk}-resellable]", "1")
    with staff.expect_navigation(wait_until="load"):
        staff.get_by_test_id("receive-submit").click()
    assert staff.get_by_test_id("receive-confirm").is_visible()
    widths.append(staff.evaluate("document.documentElement.scrollWidth"))

    # then nothing is wider than the phone
    assert widths == [min(width, PHONE["width"]) for width in widths], widths
