"""Checkout when PostgreSQL is busy: a held row lock, deadlocks, serialization failures.

A lock held by another connection makes the checkout give up after CHECKOUT_LOCK_TIMEOUT_MS; a
deadlock is injected as PostgreSQL raises it (SQLSTATE 40P01, after the reservation was written
in the same transaction). The shopper gets a "please try again" page (503), nothing half-written
remains, and deadlocks are retried up to 3 times.
"""

import time
from decimal import Decimal
from html.parser import HTMLParser

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderLine
from stores import services as stock_services
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.postgres]


class _FormFields(HTMLParser):
    """The values a browser would submit for the checkout form as shown (defaults, checked radios)."""

    def __init__(self):
        super().__init__()
        self.fields, self._in_form, self._select = {}, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._in_form = "checkout" in attrs.get("action", "checkout")
        if not self._in_form or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.fields[attrs["name"]] = attrs.get("value", "on")
                else:
                    self.fields.setdefault(attrs["name"], None)
            elif kind != "submit":
                self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and ("selected" in attrs or self.fields.get(self._select) is None):
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self.fields[attrs["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def checkout_form(client, *, store):
    page = client.get(reverse("checkout:checkout"))
    assert page.status_code == 200
    parser = _FormFields()
    parser.feed(page.content.decode())
    fields = {name: value for name, value in parser.fields.items() if value is not None}
    fields.update(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234", store=str(store.pk))
    assert fields.get("checkout_token")
    return fields


@pytest.fixture
def laugavegur(require_postgres, transactional_db, settings):
    # A retried transaction runs the same lookups again, by design; the N+1 detector would take
    # the second run of a .get() for a loop.
    settings.ZEAL_ALLOWLIST = [*settings.ZEAL_ALLOWLIST, {"model": "*", "field": "get()"}]
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def sweater(laugavegur):
    product = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def shopper_at_checkout(client, laugavegur, sweater):
    client.post(reverse("checkout:cart_add"), {"product_id": sweater.pk, "quantity": "2"})
    return checkout_form(client, store=laugavegur)


def stock_of(store, product):
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def other_connection():
    params = connection.get_connection_params()
    return psycopg.connect(**{key: value for key, value in params.items() if key not in ("cursor_factory", "context")})


def test_a_checkout_blocked_by_a_held_stock_lock_gives_up_quickly_and_asks_to_try_again(
    client, settings, laugavegur, sweater, shopper_at_checkout
):
    # given a stocktake on another connection holds the lock on the sweater's stock row
    settings.CHECKOUT_LOCK_TIMEOUT_MS = 300
    holder = other_connection()
    holder.execute(
        "SELECT id FROM stores_stocklevel WHERE store_id = %s AND product_id = %s FOR UPDATE",
        [laugavegur.pk, sweater.pk],
    )
    try:
        # when the shopper places the order
        started = time.monotonic()
        response = client.post(reverse("checkout:checkout"), shopper_at_checkout)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()

    # then after the lock timeout they are asked to try again, and nothing was written
    assert response.status_code == 503
    assert waited < 3
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Please try again" in page and "Nothing was saved and nothing was reserved" in page
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert stock_of(laugavegur, sweater) == (5, 0)

    # when the lock is gone and they submit the same page again
    again = client.post(reverse("checkout:checkout"), shopper_at_checkout)

    # then the order is placed, once
    assert again.status_code == 302
    assert Order.objects.count() == 1
    assert stock_of(laugavegur, sweater) == (5, 2)


@pytest.fixture
def deadlocks(monkeypatch):
    """Make the next `count` reservations fail the way PostgreSQL fails a deadlock victim."""
    calls = {"reservations": 0, "deadlocks_left": 0}
    reserve = stock_services.reserve_stock

    def reserve_then_deadlock(**kwargs):
        calls["reservations"] += 1
        reserve(**kwargs)  # the reservation is written, then the transaction is chosen as victim
        if calls["deadlocks_left"] > 0:
            calls["deadlocks_left"] -= 1
            with connection.cursor() as cursor:
                cursor.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$"
                )

    monkeypatch.setattr(stock_services, "reserve_stock", reserve_then_deadlock)

    def arm(count):
        calls["deadlocks_left"] = count
        return calls

    return arm


def test_a_deadlocked_checkout_is_retried_and_the_order_placed_once(
    client, laugavegur, sweater, shopper_at_checkout, deadlocks
):
    # given the first two tries of the checkout's transaction lose a deadlock
    calls = deadlocks(2)

    # when the shopper places the order
    response = client.post(reverse("checkout:checkout"), shopper_at_checkout)

    # then the third try placed it: one order, two sweaters reserved (not six)
    assert response.status_code == 302
    assert calls["reservations"] == 3
    assert Order.objects.count() == 1
    assert stock_of(laugavegur, sweater) == (5, 2)


def test_a_checkout_that_keeps_deadlocking_stops_after_three_tries_and_leaves_nothing(
    client, laugavegur, sweater, shopper_at_checkout, deadlocks
):
    # given every try of the checkout's transaction loses a deadlock
    calls = deadlocks(100)

    # when the shopper places the order
    response = client.post(reverse("checkout:checkout"), shopper_at_checkout)

    # then after 3 tries they are asked to try again; no order, no reservation, the cart is kept
    assert response.status_code == 503
    assert "Please try again" in response.content.decode()
    assert calls["reservations"] == 3
    assert Order.objects.count() == 0
    assert stock_of(laugavegur, sweater) == (5, 0)
    assert client.get(reverse("checkout:cart")).context["rows"][0]["line"].quantity == 2


def test_a_serialization_failure_is_retried_like_a_deadlock(laugavegur, sweater, monkeypatch):
    from orders.tests.factories import place_order

    # given the first try fails with a serialization failure (SQLSTATE 40001)
    failures = {"left": 1}
    reserve = stock_services.reserve_stock

    def reserve_then_conflict(**kwargs):
        reserve(**kwargs)
        if failures["left"]:
            failures["left"] -= 1
            with connection.cursor() as cursor:
                cursor.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'could not serialize' USING ERRCODE = 'serialization_failure'; END $$"
                )

    monkeypatch.setattr(stock_services, "reserve_stock", reserve_then_conflict)

    # when the order is placed through the service
    order = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])

    # then it went through on the second try, reserved once
    assert Order.objects.get() == order
    assert stock_of(laugavegur, sweater) == (5, 1)
