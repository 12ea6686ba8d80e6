"""Every page a shopper sees, opened in Chromium on a 390 × 844 phone: none is wider than the
screen, and no button or link styled as one is covered by something else. The checkout is also
opened on a 1280 × 800 laptop.

The data is made to be awkward rather than pretty: long Icelandic product names and store
addresses, a SKU-like token with no place to break, several stores at checkout. CI's fonts are
not this machine's, so a failure names the elements that reach past the edge (tag.class and
their right edge) instead of only the page's width.
"""

import contextlib
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from payments import RedirectNeeded
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from checkout.cart import SESSION_KEY
from checkout.handover import hand_over
from delivery.tests.factories import DeliveryZoneFactory, evening_windows
from orders.tests.factories import place_order
from payment.models import Payment, Receipt
from payment.receipts import receipt_link
from payment.services import Actor, payment_form
from pickup.curbside import check_in_path
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}

# What is wrong with a page's layout at `width`: the elements reaching past the right edge (the
# innermost first: they are the cause, their ancestors only stretch with them), unless a box that
# scrolls or clips sideways holds them; and the visible buttons whose centre is another element.
LAYOUT_PROBLEMS = """(width) => {
  const describe = (element) => {
    const classes = [...element.classList].map((name) => "." + name).join("");
    const testid = element.dataset.testid ? `[data-testid=${element.dataset.testid}]` : "";
    const own = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") + classes + testid;
    // An element with no name of its own is placed by its nearest named ancestor.
    if (element.id || classes || testid) return own;
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      if (parent.id || parent.classList.length || parent.dataset.testid) return `${describe(parent)} … ${own}`;
    }
    return own;
  };
  const heldInABox = (element) => {
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== "visible" && parent.getBoundingClientRect().right <= width) {
        return true;
      }
    }
    return false;
  };
  const problems = [];
  window.scrollTo(0, 0);
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    const wide = [...document.body.querySelectorAll("*")].filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width && box.right > width + 0.5 && !heldInABox(element);
    });
    // The causes first: elements that stick out of their parent (a long word, a fixed width, a
    // grid column grown to its content); their ancestors and children only follow them.
    const sticksOut = (element) => {
      const parent = element.parentElement;
      return parent && element.getBoundingClientRect().right > parent.getBoundingClientRect().right + 0.5;
    };
    const causes = wide.filter(sticksOut);
    for (const element of [...causes, ...wide.filter((element) => !causes.includes(element))].slice(0, 25)) {
      problems.push(`${describe(element)} reaches ${Math.round(element.getBoundingClientRect().right)} px`);
    }
    // Content that runs out of a box which does not grow with it (a table cell of fixed width, a
    // nowrap amount): the box is within the screen, what it holds is not.
    const spills = [...document.body.querySelectorAll("*")].filter((element) => {
      const box = element.getBoundingClientRect();
      return (
        element.scrollWidth > element.clientWidth + 1 &&
        getComputedStyle(element).overflowX === "visible" &&
        box.left + element.scrollWidth > width + 0.5 &&
        !heldInABox(element)
      );
    });
    const innermost = spills.filter((element) => !spills.some((other) => other !== element && element.contains(other)));
    for (const element of innermost.slice(0, 10)) {
      const right = Math.round(element.getBoundingClientRect().left + element.scrollWidth);
      problems.push(`${describe(element)} holds content reaching ${right} px`);
    }
  }
  const buttons = document.querySelectorAll(
    "button, input[type=submit], input[type=button], a.button, [role=button]"
  );
  for (const element of buttons) {
    const style = getComputedStyle(element);
    if (!element.getClientRects().length || style.visibility === "hidden") continue;
    element.scrollIntoView({block: "center", inline: "center"});
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!hit || !(hit === element || element.contains(hit))) {
      const label = element.textContent.trim().slice(0, 40);
      problems.push(`${describe(element)} "${label}" is covered by ${hit ? describe(hit) : "nothing"}`);
    }
  }
  window.scrollTo(0, 0);
  return problems;
}"""


# CI's fonts are not this machine's (a receipt once measured 450 px there and 390 here): each page
# is measured again with its text made this much wider, so a layout that only just fits fails here.
WIDER_TEXT = "0.08em"


def layout_problems(page, width):
    page.wait_for_load_state("load")  # stylesheets, pictures and fonts in place
    return page.evaluate(LAYOUT_PROBLEMS, width)


def layout_problems_with_wider_text(page, width):
    page.evaluate("(spacing) => { document.body.style.letterSpacing = spacing; }", WIDER_TEXT)
    try:
        return page.evaluate(LAYOUT_PROBLEMS, width)
    finally:
        page.evaluate("() => { document.body.style.letterSpacing = ''; }")


class Layouts:
    """The layout problems of every page a test opens, reported together at its end: one CI run
    names every page that does not fit, not only the first."""

    def __init__(self):
        self.problems = []

    def check(self, page, width=PHONE["viewport"]["width"]):
        found = layout_problems(page, width)
        if found:
            self.problems.append(f"{page.url} at {width} px:\n  " + "\n  ".join(found))
            return
        found = layout_problems_with_wider_text(page, width)
        if found:
            self.problems.append(
                f"{page.url} at {width} px, text {WIDER_TEXT} wider a letter:\n  " + "\n  ".join(found)
            )

    def assert_all_fit(self):
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def layouts():
    return Layouts()


LONG_NAME = "Vatnsheldur gönguskóabúnaður fyrir fjallgöngur á hálendinu, stærð 46, náttúrulitaður"
# A token with no place to break: a code or a pasted link, as names sometimes carry.
UNBROKEN = "NORÐURBÚÐ-GJAFAKORT-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture
def dummy_payments(settings):
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


def pay_online(order):
    payment = Payment.objects.get(order=order)
    with contextlib.suppress(RedirectNeeded):
        payment_form(
            payment=payment,
            data={"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"},
            by=Actor.shopper(),
        )
    return payment


@pytest.fixture
def shop(live_server, dummy_payments):
    """Three stores that have everything (two offer curbside), long names, and Anna's orders: at
    the counter paying at pickup, at the curb paid online and ready, at the curb paying at pickup,
    one waiting for her payment, and one collected with its receipt."""
    kringlan = StoreFactory(
        name="Norðurbúð Kringlan verslunarmiðstöð",
        slug="kringlan",
        address="Kringlan 4–12, inngangur við norðurenda, annarri hæð",
        parking="Free parking in the garage under the mall, and on the roof on weekdays.",
        latitude=Decimal("64.130000"),
        longitude=Decimal("-21.895000"),
    )
    laugavegur = StoreFactory(
        name="Norðurbúð Laugavegur",
        slug="laugavegur",
        address="Laugavegur 182, bakhús",
        latitude=Decimal("64.143000"),
        longitude=Decimal("-21.915000"),
    )
    smaralind = StoreFactory(
        name="Norðurbúð Smáralind",
        slug="smaralind",
        address=UNBROKEN,
        latitude=Decimal("64.101000"),
        longitude=Decimal("-21.884000"),
    )
    PickupSettingsFactory(store=kringlan, offers_curbside=True, curbside_instructions="Bays 1–4 by door 3.")
    PickupSettingsFactory(store=laugavegur, offers_curbside=False)
    PickupSettingsFactory(store=smaralind, offers_curbside=True, curbside_bays=12)
    # Kringlan's van delivers in Reykjavík every evening.
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Reykjavík")
    DeliveryZoneFactory(store=kringlan, name="Miðbær og Vesturbær", postcodes="101-108", fee=Decimal("990"))
    evening_windows(kringlan)
    outdoor = CategoryFactory(name="Útivist og ferðalög", slug="utivist")
    boots = ProductFactory(name=LONG_NAME, category=outdoor, price=Decimal("1234990"))
    sweater = ProductFactory(name="Hekla wool sweater", name_is="Hekla lopapeysa", category=outdoor)
    card = ProductFactory(name=UNBROKEN, category=outdoor, price=Decimal("5000"))
    for store in (kringlan, laugavegur, smaralind):
        for product in (boots, sweater, card):
            StockLevelFactory(store=store, product=product, on_hand=20)
    anna = UserFactory(username="anna", email="anna@example.com", first_name="Anna", last_name="Jónsdóttir")
    manager = StoreManagerFactory(stores=[kringlan, laugavegur, smaralind])

    at_the_counter = place_order(
        store=laugavegur, products_and_quantities=[(boots, 2), (sweater, 1), (card, 1)], customer=anna
    )
    at_the_curb = place_curbside_order(
        store=kringlan, products_and_quantities=[(boots, 1), (card, 3)], customer=anna, payment="dummy"
    )
    pay_online(at_the_curb)
    mark_ready_for_pickup(order=at_the_curb, by=manager)
    curb_paid_at_pickup = place_curbside_order(store=smaralind, products_and_quantities=[(sweater, 2)], customer=anna)
    to_pay = place_order(store=kringlan, products_and_quantities=[(boots, 1)], customer=anna, payment="dummy")
    collected = place_order(store=smaralind, products_and_quantities=[(boots, 1), (card, 2)], payment="dummy")
    pay_online(collected)
    mark_ready_for_pickup(order=collected, by=manager)
    hand_over(order=collected, code=pickup_of(collected).code, by=manager)
    return {
        "url": live_server.url,
        "stores": (kringlan, laugavegur, smaralind),
        "products": (boots, sweater, card),
        "category": outdoor,
        "anna": anna,
        "orders": {
            "in store, paying at pickup": at_the_counter,
            "curbside, paid online, ready": at_the_curb,
            "curbside, paying at pickup": curb_paid_at_pickup,
        },
        "to_pay": to_pay,
        "collected": collected,
    }


def shopper_with_a_cart(browser, shop, *, logged_in, device=PHONE):
    """A browser context whose session holds a cart of the three products (and Anna's login)."""
    client = Client()
    if logged_in:
        client.force_login(shop["anna"])
    session = client.session
    boots, sweater, card = shop["products"]
    session[SESSION_KEY] = {str(boots.pk): 1, str(sweater.pk): 2, str(card.pk): 1}
    session.save()
    context = browser.new_context(**device)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": shop["url"]}])
    return context.new_page()


def test_every_catalog_and_store_page_fits_a_phone(browser, shop, layouts):
    page = browser.new_context(**PHONE).new_page()
    kringlan, _laugavegur, _smaralind = shop["stores"]
    boots, _sweater, card = shop["products"]
    pages = {
        "home": "/",
        "a category": shop["category"].get_absolute_url(),
        "search results": "/?q=lopapeysa",
        "search with nothing found": "/?q=" + "x" * 60,
        "a product": boots.get_absolute_url(),
        "a product named by a long token": card.get_absolute_url(),
        "store list": reverse("stores:store_list"),
        "a store": kringlan.get_absolute_url(),
    }
    for name, path in pages.items():
        response = page.goto(shop["url"] + path)
        assert response.status == 200, name
        layouts.check(page)

    layouts.assert_all_fit()


def test_the_cart_and_the_checkout_with_several_stores_fit_a_phone_and_a_laptop(browser, shop, layouts):
    # given a cart of three products which all three stores have
    page = shopper_with_a_cart(browser, shop, logged_in=False)

    page.goto(shop["url"] + reverse("checkout:cart"))
    assert page.get_by_test_id("cart-line").count() == 3
    layouts.check(page)

    page.goto(shop["url"] + reverse("checkout:checkout"))
    assert page.get_by_test_id("store-choice").count() == 3
    layouts.check(page)

    # a refused checkout (no phone number), with its errors above the form, fits too
    page.fill("input[name=name]", "Anna Jónsdóttir")
    page.fill("input[name=email]", "anna@example.com")
    page.get_by_test_id("place-order").click()
    page.wait_for_selector("[data-testid=checkout-errors], .errorlist")
    layouts.check(page)

    # the delivery checkout: the address, then the stores delivering there with their windows
    page.goto(shop["url"] + reverse("checkout:delivery"))
    layouts.check(page)
    page.fill("input[name=street]", "Bergstaðastræti 12, íbúð 0301, bakhús við garðinn")
    page.fill("input[name=postcode]", "101")
    page.fill("input[name=city]", "Reykjavík")
    page.fill("input[name=phone]", "+354 555 1234")
    page.get_by_test_id("find-delivery").click()
    page.get_by_test_id("delivery-option").first.wait_for()
    layouts.check(page)

    laptop = shopper_with_a_cart(browser, shop, logged_in=True, device=LAPTOP)
    laptop.goto(shop["url"] + reverse("checkout:checkout"))
    layouts.check(laptop, LAPTOP["viewport"]["width"])

    # Icelandic words are longer than English ones
    icelandic = shopper_with_a_cart(browser, shop, logged_in=True, device={**PHONE, "locale": "is-IS"})
    for path in (reverse("checkout:cart"), reverse("checkout:checkout")):
        icelandic.goto(shop["url"] + path)
        assert icelandic.locator("html").get_attribute("lang") == "is"
        layouts.check(icelandic)

    layouts.assert_all_fit()


def test_the_order_payment_receipt_and_check_in_pages_fit_a_phone(browser, shop, layouts):
    page = browser.new_context(**PHONE).new_page()

    for kind, order in shop["orders"].items():
        response = page.goto(shop["url"] + order.get_absolute_url())
        assert response.status == 200, kind
        layouts.check(page)
    page.goto(shop["url"] + shop["to_pay"].get_absolute_url())  # in store, waiting for the payment online
    layouts.check(page)

    page.goto(shop["url"] + reverse("payment_page", kwargs={"token": Payment.objects.get(order=shop["to_pay"]).token}))
    layouts.check(page)

    receipt = Receipt.objects.get(order=shop["collected"])
    page.goto(shop["url"] + receipt_link(receipt))
    page.get_by_test_id("receipt-total").wait_for()
    layouts.check(page)

    page.goto(shop["url"] + check_in_path(shop["orders"]["curbside, paid online, ready"]))
    layouts.check(page)

    page.goto(shop["url"] + reverse("returns:start", kwargs={"token": shop["collected"].access_token}))
    layouts.check(page)

    layouts.assert_all_fit()


def test_the_account_pages_fit_a_phone(browser, shop, layouts):
    page = browser.new_context(**PHONE).new_page()
    anna = shop["anna"]
    reset = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(anna.pk)),
            "token": default_token_generator.make_token(anna),
        },
    )
    for path in (
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
        reverse("accounts:password_reset_done"),
        reset,
    ):
        assert page.goto(shop["url"] + path).status == 200, path
        layouts.check(page)

    # a sign-up refused (passwords differ) keeps its layout with the errors shown
    page.goto(shop["url"] + reverse("accounts:signup"))
    page.fill("input[name=username]", "sigga")
    page.fill("input[name=email]", "sigga@example.com")
    page.fill("input[name=password1]", "a-long-passphrase-1")
    page.fill("input[name=password2]", "a-different-passphrase-2")
    page.get_by_test_id("signup-submit").click()
    page.wait_for_selector(".errorlist")
    layouts.check(page)

    signed_in = shopper_with_a_cart(browser, shop, logged_in=True)
    for path in (reverse("accounts:orders"), reverse("accounts:email_change")):
        assert signed_in.goto(shop["url"] + path).status == 200, path
        layouts.check(signed_in)

    layouts.assert_all_fit()


def test_the_layout_check_names_what_is_too_wide_and_what_is_covered(browser, shop):
    # given the home page with a too-wide element, text running out of a narrow one, and a button
    # covered by another element
    page = browser.new_context(**PHONE).new_page()
    page.goto(shop["url"] + "/")
    page.evaluate(
        """() => {
          const wide = document.createElement("div");
          wide.className = "too-wide";
          wide.style.width = "500px";
          wide.textContent = "Too wide";
          document.querySelector("main").append(wide);
          const spill = document.createElement("p");
          spill.className = "spill";
          spill.style.cssText = "width:100px;white-space:nowrap";
          spill.textContent = "ISK 1,234,990 ".repeat(20);
          document.querySelector("main").append(spill);
          const button = document.createElement("button");
          button.className = "hidden-button";
          button.textContent = "Press";
          const cover = document.createElement("div");
          cover.className = "cover";
          cover.style.cssText = "position:fixed;inset:0;z-index:9";
          document.querySelector("main").append(button, cover);
        }"""
    )

    problems = layout_problems(page, 390)

    # then each is named
    assert problems[0].startswith("the page is ")
    assert any(problem.startswith("div.too-wide reaches ") for problem in problems)
    assert any(problem.startswith("p.spill holds content reaching ") for problem in problems)
    assert any(problem.startswith('button.hidden-button "Press" is covered by div.cover') for problem in problems)
