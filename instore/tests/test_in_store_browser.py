"""Issue 13 in Chromium: a shopper at Kringlan scans a shelf label on a 390 × 844 phone, sees the
store's banner and its stock first, and orders — recorded as an in-store sale after the scan; the
manager prints the label sheet, which lays out on A4."""

import re
from decimal import Decimal

import pytest

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from instore.context import absolute_link
from instore.models import SaleAttribution, ShelfScan
from orders.models import Channel, Order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
A4_WIDTH_PX = 210 / 25.4 * 96  # CSS pixels


def assert_fits_a_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


@pytest.fixture
def shop(settings, live_server):
    settings.SITE_URL = live_server.url
    kringlan = StoreFactory(
        name="Norðurbúð Kringlan", slug="kringlan", latitude=Decimal("64.1300"), longitude=Decimal("-21.8950")
    )
    laugavegur = StoreFactory(
        name="Norðurbúð Laugavegur", slug="laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290")
    )
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear")
    sweater = ProductFactory(
        category=knitwear, name="Lopapeysa", slug="lopapeysa", sku="LOPI-1", price=Decimal("24990"), weight_grams=700
    )
    for n in range(24):  # more than one A4 sheet of labels
        ProductFactory(category=knitwear, name=f"Húfa {n:02d}", slug=f"hufa-{n}", sku=f"HUFA-{n}")
    StockLevelFactory(store=kringlan, product=sweater, on_hand=3)
    StockLevelFactory(store=laugavegur, product=sweater, on_hand=9)
    manager = StoreManagerFactory(username="manager-kringlan", password="nordurbud-manager", stores=[kringlan])
    return {"url": live_server.url, "kringlan": kringlan, "sweater": sweater, "manager": manager}


def test_a_shopper_scans_a_shelf_label_and_orders_in_store(browser, shop):
    page = browser.new_context(**PHONE).new_page()

    # given a shopper at Kringlan scanning the sweater's shelf label with her phone
    page.goto(absolute_link(store=shop["kringlan"], product=shop["sweater"]))

    # then the sweater's page opens in Kringlan: the banner, Kringlan's stock first, here now
    assert page.get_by_test_id("product-name").inner_text() == "Lopapeysa"
    assert page.get_by_test_id("in-store-banner").inner_text().startswith("You are in Norðurbúð Kringlan")
    assert "3 in stock at Norðurbúð Kringlan" in page.get_by_test_id("availability").first.inner_text()
    assert page.get_by_test_id("aisle-here").is_visible()
    assert_fits_a_phone(page)

    # when she adds it to the cart and checks out for pickup here
    page.get_by_test_id("add-to-cart").click()
    page.goto(shop["url"] + "/cart/")
    page.get_by_test_id("checkout-link").click()
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.fill("input[name=phone]", "+354 555 1234")
    assert page.get_by_test_id("store-choice").filter(has_text="Kringlan").locator("input[name=store]").is_checked()
    assert_fits_a_phone(page)
    page.get_by_test_id("place-order").click()

    # then the order is an in-store sale at Kringlan, owed to the scan
    assert re.fullmatch(r"\d{6}", page.get_by_test_id("pickup-code").inner_text().strip())
    order = Order.objects.get()
    assert (order.channel, order.store) == (Channel.IN_STORE, shop["kringlan"])
    attribution = SaleAttribution.objects.get(order=order)
    assert attribution.scan == ShelfScan.objects.get(store=shop["kringlan"], product=shop["sweater"])
    assert_fits_a_phone(page)


def test_the_manager_prints_a_label_sheet_on_a4(browser, shop):
    page = browser.new_context().new_page()

    # given the manager of Kringlan signed in to the admin
    page.goto(shop["url"] + "/admin/login/")
    page.fill("input[name=username]", "manager-kringlan")
    page.fill("input[name=password]", "nordurbud-manager")
    page.locator("input[type=submit]").click()

    # when they open in-store selling and show the knitwear labels
    page.goto(shop["url"] + "/staff/in-store/")
    store = page.locator("[data-testid=in-store-store][data-store=kringlan]")
    store.get_by_test_id("label-category").select_option("knitwear")
    store.get_by_test_id("print-labels").click()

    # then there are 25 labels, each with its name, price and QR code, on a sheet A4 wide
    labels = page.get_by_test_id("shelf-label")
    assert labels.count() == 25
    assert page.locator("img.label__qr").evaluate_all("imgs => imgs.every(img => img.complete && img.naturalWidth > 0)")
    page.emulate_media(media="print")
    sheet = page.get_by_test_id("label-sheet").bounding_box()
    assert abs(sheet["width"] - A4_WIDTH_PX) < 2
    first = labels.first.bounding_box()
    assert abs(first["width"] - 70 / 25.4 * 96) < 2 and abs(first["height"] - 42.3 / 25.4 * 96) < 2
    assert not page.get_by_test_id("print").is_visible()  # the header is not printed

    # and printed, it is two A4 pages (21 labels on the first)
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    # each page A4: 595 × 842 points (210 × 297 mm), from the sheet's @page rule
    boxes = [[float(n) for n in box.split()] for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)]
    assert len(boxes) == 2
    assert all(abs(box[2] - 595.3) < 1 and abs(box[3] - 841.9) < 1 for box in boxes)


def test_the_store_sign_fits_a_phone_and_prints_on_a4(browser, shop):
    # found by a fresh-eyes test: on a 390 px phone the sign's QR code was 529 px wide
    page = browser.new_context(**PHONE).new_page()
    page.goto(shop["url"] + "/admin/login/")
    page.fill("input[name=username]", "manager-kringlan")
    page.fill("input[name=password]", "nordurbud-manager")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state("load")

    page.goto(shop["url"] + "/staff/in-store/kringlan/sign/", wait_until="load")
    qr = page.locator("img.sign__qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert_fits_a_phone(page)
    assert qr.bounding_box()["width"] <= 390

    # printed, the sign is an A4 page with the QR code at its full 120 mm
    page.emulate_media(media="print")
    assert abs(qr.bounding_box()["width"] - 120 / 25.4 * 96) < 2
