"""Checkout rush: many shoppers at once, each in their own browser session, buying a few hot
products for pickup at a few hot stores; then stock and orders are reconciled.

All shoppers arrive within a second. Each opens a hot product's page, adds one or two hot
products to the cart, opens the checkout and places the order, pausing like a person between
steps: THINK_SECONDS to look at a page (between 1 and 5 s, as in Locust's examples), and
FORM_SECONDS to type name, e-mail and phone into the checkout form. So the 200 orders arrive
over some 20 seconds, four gunicorn workers at a time against the same 15 stock rows. Every
shopper pays online with the Dummy provider (PAYMENT_PROVIDERS=dummy): the checkout reserves the
units and sends them to the payment page, they take PAY_SECONDS to type a card, and the payment is
authorised. Two requests are timed: the checkout's final POST (placing the order) and the payment
form's POST (the authorisation, which moves the order from "awaiting payment" to placed). Some
shoppers double-submit: the same checkout page posted twice at once must give one order.

Every `delivery_every`-th shopper has the cart delivered instead (`DeliveryRush`): the address
typed at /checkout/delivery/, the options shown, one of the hot stores chosen with its earliest
window, the order placed (timed as "delivery placing") and paid. The hot stores' windows have few
places, so the earliest fill during a round; a shopper told their window has just been fully
booked chooses again from the page shown (at most DELIVERY_TRIES times), as a person would.

Every fourth pickup shopper (`bench.rewards.RewardsRush`) is a signed-in rewards member who uses
points as money off at checkout; her placing POST is also timed on its own ("with points").
"""

import http.client
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import F, Sum

from orders.models import Order, OrderLine, OrderStatus
from stores.models import StockLevel

THINK_SECONDS = (1.0, 5.0)
FORM_SECONDS = (5.0, 15.0)
PAY_SECONDS = (3.0, 8.0)
# The Dummy provider's form (django-payments' DummyForm): an authorisation without 3-D Secure.
AUTHORISED = {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHECKOUT_TOKEN_FIELD = re.compile(r'name="checkout_token" value="([^"]+)"')
QUOTE_FIELD = re.compile(r'name="quote" value="([^"]*)"')
WINDOW_SELECT = re.compile(r'<select name="window-(\d+)"[^>]*>\s*<option value="([^"]+)"')
DELIVERY_TRIES = 3
# The first error a refused checkout page shows (reported for refusals of no known kind).
FIRST_ERROR = re.compile(
    r'<ul class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>|<div class="form-errors"[^>]*>\s*<ul><li>(.*?)</li>', re.S
)


class Browser:
    """One shopper's session: cookies kept, one keep-alive connection."""

    def __init__(self, host, port):
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies = {}

    def request(self, method, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.connection.host}:{self.connection.port}{path}"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, text


@dataclass
class Attempt:
    seconds: float
    status: int
    placed: bool
    double_submit: bool = False
    refusal: str = ""  # why a checkout page came back instead of an order (see refusal_of)
    location: str = ""  # where a placed order sent the shopper: the payment page
    pay_seconds: float | None = None  # the payment form's POST, when this attempt paid
    paid: bool = False  # ...and the provider's answer led back to the order page
    delivery: bool = False  # placed at /checkout/delivery/ (else a pickup at /checkout/)
    posted: bool = True  # False: a delivery shopper offered no window of a hot store, so nothing posted
    detail: str = ""  # a refusal of no known kind: the page's first error
    coupon: bool = False  # the shopper typed the bench's coupon code at checkout
    points: bool = False  # a signed-in rewards member using points at checkout (bench.rewards)


# What the checkout page says when it places nothing (checkout.views, checkout.services,
# pickup.slots; in English). The shopper echoes the page's checkout_token field, which carries the
# signed summary of what the page showed (checkout.forms.ShownCheckout), as a browser does.
REFUSALS = {
    "sold out": re.compile(r"is sold out at|Only \d+ of .* left at"),
    "delivery window full": re.compile(r"delivery window you chose from .* has just been fully booked"),
    "no delivery window": re.compile(r"Every delivery window in the coming days is full"),
    "no store has the cart": re.compile(r"has everything in your cart"),
    "pickup time full": re.compile(r"has just been fully booked|no free pickup times|no longer offered"),
    "page expired": re.compile(r"checkout page had expired"),
    "coupon refused": re.compile(r"Coupon \S+ (has been used up|expired|is not valid)|no coupon with the code"),
    "changed meanwhile": re.compile(r"changed from .* to |is no longer sold|no longer offers|cart changed after"),
    "try again": re.compile(r"try again", re.IGNORECASE),
}


def refusal_of(status, page):
    if status != 200:
        return ""
    return next((reason for reason, pattern in REFUSALS.items() if pattern.search(page)), "other")


@dataclass
class RushResult:
    shoppers: int
    attempts: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    wall_seconds: float = 0.0
    delivery_shoppers: int = 0


def _think(rng):
    time.sleep(rng.uniform(*THINK_SECONDS))


@dataclass(frozen=True)
class DeliveryRush:
    """The shoppers who have their cart delivered: every `every`-th one, to one of `addresses`
    (bench.delivery.DeliveryAddress), from one of `store_ids` (the hot stores)."""

    store_ids: list
    addresses: list
    every: int = 5


@dataclass(frozen=True)
class CouponRush:
    """The pickup shoppers who type a coupon code at checkout: every `every`-th one (from the
    second), the code in lower case with a space, as people type it."""

    code: str
    every: int = 3


BENCH_COUPON_CODE = "RUSH10"


def bench_coupon_code() -> str:
    """The bench's coupon (10 % off, valid for years, a total limit no rush reaches, so every use
    takes the coupon's row lock as a limited coupon does), made if missing; its code."""
    import datetime

    from django.utils import timezone

    from coupons.models import Coupon, CouponCode, CouponKind

    if not CouponCode.objects.filter(code=BENCH_COUPON_CODE).exists():
        coupon = Coupon.objects.create(
            name="Bench rush",
            kind=CouponKind.PERCENT,
            value=10,
            valid_from=timezone.now() - datetime.timedelta(days=1),
            valid_until=timezone.now() + datetime.timedelta(days=3650),
            limit_total=10_000_000,
        )
        CouponCode.objects.create(coupon=coupon, code=BENCH_COUPON_CODE)
    return BENCH_COUPON_CODE


def redemptions_since(order_pk: int) -> int:
    """Coupon uses recorded with orders placed after `order_pk`."""
    from coupons.models import Redemption

    return Redemption.objects.filter(order__pk__gt=order_pk).count()


def _uses_coupon(number, *, coupon, double_submit):
    return coupon is not None and not double_submit and number % coupon.every == 1


def _delivers(number, *, delivery, double_submit):
    return delivery is not None and not double_submit and number % delivery.every == delivery.every - 1


def _shopper(
    number,
    *,
    host,
    port,
    products,
    store_ids,
    result,
    lock,
    start,
    double_submit,
    delivery=None,
    coupon=None,
    rewards=None,
):
    rng = random.Random(number)
    browser = Browser(host, port)
    member = None
    if rewards is not None and not double_submit and not _delivers(number, delivery=delivery, double_submit=False):
        member = rewards.session_for(number)
    if member is not None:  # signed in already (bench.rewards wrote her session)
        browser.cookies[settings.SESSION_COOKIE_NAME] = member
    try:
        start.wait()
        time.sleep(rng.uniform(0, 1))
        chosen = rng.sample(products, rng.randint(1, 2))
        status, _headers, page = browser.request("GET", f"/products/{chosen[0]['slug']}/")
        csrf = CSRF_FIELD.search(page).group(1)
        for product in chosen:
            _think(rng)
            form = {"csrfmiddlewaretoken": csrf, "product_id": product["id"], "quantity": rng.randint(1, 3)}
            browser.request("POST", "/cart/add/", form)
        _think(rng)
        if _delivers(number, delivery=delivery, double_submit=double_submit):
            attempts = _check_out_for_delivery(browser, number, rng=rng, delivery=delivery)
            to_pay = next((attempt for attempt in attempts if "/payments/" in attempt.location), None)
            if to_pay is not None:
                _pay(browser, to_pay, rng)
            with lock:
                result.attempts.extend(attempts)
            return
        status, _headers, page = browser.request("GET", "/checkout/")
        token = CHECKOUT_TOKEN_FIELD.search(page).group(1)
        csrf = CSRF_FIELD.search(page).group(1)
        time.sleep(rng.uniform(*FORM_SECONDS))
        form = {
            "csrfmiddlewaretoken": csrf,
            "checkout_token": token,
            "store": rng.choice(store_ids),
            "name": f"Rush shopper {number}",
            "email": f"rush-{number}@bench.example",
            "phone": "+354 555 1234",
        }
        form[f"payment-{form['store']}"] = "dummy"
        typed_coupon = _uses_coupon(number, coupon=coupon, double_submit=double_submit)
        if typed_coupon:
            form["coupon_code"] = f"{coupon.code[:4].lower()} {coupon.code[4:].lower()}"
        if member is not None:
            form["points"] = str(rewards.points)
        if double_submit:
            attempts = _post_twice(browser, form, host, port)
        else:
            began = time.perf_counter()
            status, headers, page = browser.request("POST", "/checkout/", form)
            attempts = [_attempt(time.perf_counter() - began, status, headers, page)]
            attempts[0].coupon = typed_coupon
            attempts[0].points = member is not None
        to_pay = next((attempt for attempt in attempts if "/payments/" in attempt.location), None)
        if to_pay is not None:
            _pay(browser, to_pay, rng)
        with lock:
            result.attempts.extend(attempts)
    except Exception as error:  # a shopper whose browser broke is reported, not hidden
        with lock:
            result.errors.append(f"shopper {number}: {error!r}")


def _check_out_for_delivery(browser, number, *, rng, delivery):
    """The address typed, the options shown, a hot store and its earliest window chosen, the
    order placed; chosen again from the page shown when the window has just filled."""
    address = rng.choice(delivery.addresses)
    _status, _headers, page = browser.request("GET", "/checkout/delivery/")
    time.sleep(rng.uniform(*FORM_SECONDS))
    details = {
        "street": address.street,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "phone": "+354 555 1234",
        "name": f"Rush shopper {number}",
        "email": f"rush-{number}@bench.example",
    }
    status, _headers, page = browser.request(
        "POST",
        "/checkout/delivery/",
        {"csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1), "action": "find", **details},
    )
    attempts = []
    for _try in range(DELIVERY_TRIES):
        windows = {int(store): key for store, key in WINDOW_SELECT.findall(page) if int(store) in delivery.store_ids}
        if not windows:  # every window of the hot stores full, or the address refused: nothing to place
            attempt = _attempt(0.0, status, {}, page)
            attempt.delivery, attempt.posted = True, False
            if status == 200 and attempt.refusal == "other":
                # The address was found (the rush's postcodes are all in zones) but the hot stores
                # offered no window: they filled under this shopper's earlier tries or before it.
                attempt.refusal, attempt.detail = "no window left at the hot stores", ""
            attempts.append(attempt)
            break
        store = rng.choice(sorted(windows))
        form = {
            "csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1),
            "checkout_token": CHECKOUT_TOKEN_FIELD.search(page).group(1),
            "quote": QUOTE_FIELD.search(page).group(1),
            "action": "place",
            **details,
            "store": store,
            f"window-{store}": windows[store],
            f"payment-{store}": "dummy",
        }
        began = time.perf_counter()
        status, headers, page = browser.request("POST", "/checkout/delivery/", form)
        attempt = _attempt(time.perf_counter() - began, status, headers, page)
        attempt.delivery = True
        attempts.append(attempt)
        if attempt.refusal != "delivery window full":
            break
    return attempts


def _heading(page):
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    return "page: " + (found.group(1).strip() if found else page[:120])


def _attempt(seconds, status, headers, page, *, double_submit=False):
    location = headers.get("Location", "")
    refusal = refusal_of(status, page)
    found = FIRST_ERROR.search(page) if refusal == "other" else None
    return Attempt(
        detail=(next((text for text in found.groups() if text), "") if found else _heading(page))[:200]
        if refusal == "other"
        else "",
        seconds=seconds,
        status=status,
        # Sent to pay for the order it placed, or (a double submit's twin) to the order already placed.
        placed=status == 302 and ("/payments/" in location or "/orders/" in location),
        double_submit=double_submit,
        refusal=refusal,
        location=location,
    )


def _pay(browser, attempt, rng):
    """The shopper on the Dummy provider's payment page: a card typed, the payment authorised."""
    path = urlsplit(attempt.location).path
    _status, _headers, page = browser.request("GET", path)
    time.sleep(rng.uniform(*PAY_SECONDS))
    began = time.perf_counter()
    status, headers, _page = browser.request(
        "POST", path, {"csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1), **AUTHORISED}
    )
    attempt.pay_seconds = time.perf_counter() - began
    attempt.paid = status == 302 and "/orders/" in headers.get("Location", "")


def _post_twice(browser, form, host, port):
    """The same checkout page submitted twice at once (a double click), from the same session."""
    twin = Browser(host, port)
    twin.cookies = dict(browser.cookies)
    outcomes = []

    def post(client):
        began = time.perf_counter()
        status, headers, page = client.request("POST", "/checkout/", form)
        outcomes.append(_attempt(time.perf_counter() - began, status, headers, page, double_submit=True))

    threads = [threading.Thread(target=post, args=(client,)) for client in (browser, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def run_rush(
    *,
    host,
    port,
    products,
    store_ids,
    shoppers=200,
    double_submitters=10,
    delivery: DeliveryRush | None = None,
    coupon: CouponRush | None = None,
    rewards=None,
) -> RushResult:
    result = RushResult(shoppers=shoppers)
    result.delivery_shoppers = sum(
        _delivers(number, delivery=delivery, double_submit=number < double_submitters) for number in range(shoppers)
    )
    lock, start = threading.Lock(), threading.Event()
    threads = [
        threading.Thread(
            target=_shopper,
            args=(number,),
            kwargs=dict(
                host=host,
                port=port,
                products=products,
                store_ids=store_ids,
                result=result,
                lock=lock,
                start=start,
                double_submit=number < double_submitters,
                delivery=delivery,
                coupon=coupon,
                rewards=rewards,
            ),
        )
        for number in range(shoppers)
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.set()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - began
    return result


def stock_snapshot(*, store_ids, product_ids):
    return {
        (level.store_id, level.product_id): (level.on_hand, level.reserved)
        for level in StockLevel.objects.filter(store_id__in=store_ids, product_id__in=product_ids)
    }


def deadlocks_so_far():
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def reconcile(*, before, store_ids, product_ids, since_order_pk):
    """Units reserved by the rush must equal units on the rush's orders, store by product, and
    no row may have more reserved than on hand. Returns (oversold units, mismatches, orders)."""
    after = stock_snapshot(store_ids=store_ids, product_ids=product_ids)
    ordered = {
        (row["order__store_id"], row["product_id"]): row["units"]
        for row in OrderLine.objects.filter(
            # Placed (paid) or still awaiting payment: both hold their units.
            order__pk__gt=since_order_pk,
            order__status__in=(OrderStatus.PLACED, OrderStatus.AWAITING_PAYMENT),
            product_id__in=product_ids,
        )
        .values("order__store_id", "product_id")
        .annotate(units=Sum("quantity"))
    }
    oversold, mismatches = 0, []
    for key, (on_hand, reserved) in after.items():
        reserved_by_rush = reserved - before[key][1]
        units = ordered.get(key, 0)
        if reserved_by_rush != units:
            mismatches.append({"store_product": key, "reserved": reserved_by_rush, "ordered": units})
        oversold += max(0, reserved - on_hand) + max(0, units - (before[key][0] - before[key][1]))
    orders = Order.objects.filter(pk__gt=since_order_pk).count()
    return oversold, mismatches, orders


def top_up_hot_stock(*, store_ids, product_ids, units):
    """Between rounds, the stores get a delivery: `units` more for sale on every hot row (bench only)."""
    StockLevel.objects.filter(store_id__in=store_ids, product_id__in=product_ids).update(on_hand=F("reserved") + units)
