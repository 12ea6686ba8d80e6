"""Checkout and order page choices for pickup: the slot, curbside, and who collects."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout.cart import SESSION_KEY
from checkout.forms import ShownCheckout
from orders.models import FulfilmentMethod, Order, OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup import slots
from pickup.models import Pickup
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from pickup.slots import available_slots
from pickup.tests.factories import PickupSettingsFactory
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Anna Jónsdóttir", "email": "anna@example.com", "phone": "+354 555 1234"}


@pytest.fixture
def laugavegur():
    store = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(store=store, orders_per_slot=1)
    return store


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


def fill_cart(client, product, units=1):
    session = client.session
    session[SESSION_KEY] = {str(product.pk): units}
    session.save()


def checkout_page(client):
    response = client.get(reverse("checkout:checkout"))
    assert response.status_code == 200
    html = response.content.decode()
    return html, re.search(r'name="checkout_token" value="([^"]+)"', html).group(1)


def test_the_shopper_picks_a_slot_and_curbside_with_a_car_and_a_collector(client, laugavegur, mittens):
    # given a cart and the checkout page, which lists Laugavegur's free times
    fill_cart(client, mittens)
    html, token = checkout_page(client)
    slot = available_slots(laugavegur)[1]
    assert f'value="{slot.key}"' in html
    assert 'data-testid="fulfilment-curbside"' in html

    # when they choose the second time, curbside, their car, and that Sigga collects
    response = client.post(
        reverse("checkout:checkout"),
        {
            **CONTACT,
            "store": laugavegur.pk,
            f"slot-{laugavegur.pk}": slot.key,
            "fulfilment": "curbside",
            "vehicle_description": "Red  Yaris",
            "collector_name": " Sigríður  Jónsdóttir ",
            "checkout_token": token,
        },
    )

    # then the order holds all of it, and its page shows the slot in store time
    assert response.status_code == 302
    order = Order.objects.get()
    pickup = pickup_of(order)
    assert (pickup.fulfilment.method, pickup.vehicle_description, pickup.collector_name) == (
        FulfilmentMethod.CURBSIDE,
        "Red Yaris",
        "Sigríður Jónsdóttir",
    )
    assert (pickup_of(order).slot_start, pickup_of(order).slot_end) == (slot.starts_at, slot.ends_at)
    page = client.get(response["Location"]).content.decode()
    local = timezone.localtime(slot.starts_at, laugavegur.zone)
    assert f"{local:%H:%M}" in re.search(r'data-testid="pickup-slot">([^<]+)<', page).group(1)
    assert 'data-step="placed"' in page


def test_a_slot_taken_meanwhile_is_refused_and_the_cart_kept(client, laugavegur, mittens):
    # given the checkout open on a slot that takes one order
    fill_cart(client, mittens, units=2)
    _html, token = checkout_page(client)
    slot = available_slots(laugavegur)[0]

    # when another shopper books the slot first
    place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], pickup_slot=slot.starts_at)
    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": laugavegur.pk, f"slot-{laugavegur.pk}": slot.key, "checkout_token": token},
    )

    # then the shopper is told, nothing is reserved for them, and the cart is unchanged
    assert response.status_code == 200
    assert "has just been fully booked" in response.content.decode()
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(store=laugavegur, product=mittens).reserved == 1
    assert client.session[SESSION_KEY] == {str(mittens.pk): 2}
    assert f'value="{slot.key}"' not in response.content.decode()  # no longer offered


def test_curbside_is_refused_where_the_store_does_not_offer_it(client, mittens, laugavegur):
    laugavegur.pickup_settings.offers_curbside = False
    laugavegur.pickup_settings.save()
    fill_cart(client, mittens)
    html, token = checkout_page(client)
    assert 'data-testid="fulfilment-curbside"' not in html
    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "store": laugavegur.pk, "fulfilment": "curbside", "checkout_token": token},
    )
    assert response.status_code == 200
    assert "does not offer curbside pickup" in response.content.decode()
    assert not Order.objects.exists()


def test_without_a_chosen_time_the_earliest_free_slot_is_booked(client, laugavegur, mittens):
    fill_cart(client, mittens)
    _html, token = checkout_page(client)
    earliest = available_slots(laugavegur)[0]
    client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})
    assert pickup_of(Order.objects.get()).slot_start == earliest.starts_at


def test_without_a_chosen_time_a_slot_filled_meanwhile_gives_the_next_one(client, laugavegur, mittens, monkeypatch):
    # given a checkout posted without a time (a script, an old page), the earliest free time read
    # a moment before another shopper took it (the store takes one order per slot)
    fill_cart(client, mittens)
    _html, token = checkout_page(client)
    first, second = available_slots(laugavegur)[:2]
    real_counts = slots._booked_counts
    counts_read = []

    def counted_before_the_other_order(store, starts):
        # The first count (the free times, read before the slots are locked) misses the other order.
        counts_read.append(starts)
        return {} if len(counts_read) == 1 else real_counts(store, starts)

    monkeypatch.setattr(slots, "_booked_counts", counted_before_the_other_order)
    place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], pickup_slot=first.starts_at)
    counts_read.clear()

    # when
    response = client.post(reverse("checkout:checkout"), {**CONTACT, "store": laugavegur.pk, "checkout_token": token})

    # then the order is placed for the next time rather than refused, and the first slot holds one order
    assert response.status_code == 302
    assert (
        pickup_of(Order.objects.get(checkout_token=ShownCheckout.from_signed(token).token)).slot_start
        == second.starts_at
    )
    assert Order.objects.filter(fulfilments__pickup__slot_start=first.starts_at).count() == 1


def test_the_shopper_names_and_changes_the_collector_until_collected(client, laugavegur, mittens):
    # given a placed order
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    url = reverse("checkout:order_collector", args=[order.access_token])

    # when the shopper names Björn, then Sigga
    client.post(url, {"collector_name": "Björn"})
    response = client.post(url, {"collector_name": "Sigga"}, follow=True)

    # then Sigga collects, and the history shows both changes
    order.refresh_from_db()
    assert pickup_of(order).collector_name == "Sigga"
    assert "Sigga can now collect the order" in response.content.decode()
    notes = list(
        OrderEvent.objects.filter(order=order, kind=OrderActivity.COLLECTOR_CHANGED).values_list("note", flat=True)
    )
    assert notes == ["Björn will collect the order.", "Sigga will collect the order."]

    # when staff hand the order over, the history records to whom
    manager = StoreManagerFactory(stores=[laugavegur])
    mark_ready_for_pickup(order=order, by=manager)
    collect_order(order=order, code=pickup_of(order).code, by=manager)
    collected = OrderEvent.objects.get(order=order, to_status=OrderStatus.COLLECTED)
    assert (collected.actor, collected.note) == (manager, "Handed over to Sigga.")

    # and afterwards the collector can no longer be changed
    response = client.post(url, {"collector_name": "Someone else"}, follow=True)
    assert "can no longer be changed" in response.content.decode()
    order.refresh_from_db()
    assert pickup_of(order).collector_name == "Sigga"
    assert 'data-testid="collector-form"' not in response.content.decode()


def test_a_tampered_order_link_cannot_change_the_collector(client, laugavegur, mittens):
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
    response = client.post(
        reverse("checkout:order_collector", args=[order.access_token + "x"]), {"collector_name": "Mallory"}
    )
    assert response.status_code == 404
    order.refresh_from_db()
    assert pickup_of(order).collector_name == ""


def test_the_managers_order_list_filters_and_sorts_by_slot_in_store_time(client, laugavegur, mittens):
    # given orders for 14:00 and 15:00 today (store time) and one for tomorrow
    zone = laugavegur.zone
    today = timezone.now().astimezone(zone).date()

    def at(day, hour):
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)

    orders = {}
    for name, start in {
        "two": at(today, 14),
        "three": at(today, 15),
        "tomorrow": at(today + datetime.timedelta(days=1), 10),
    }.items():
        order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
        Pickup.objects.filter(fulfilment__order=order).update(
            slot_start=start, slot_end=start + datetime.timedelta(minutes=30)
        )
        orders[name] = order.number
    place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])  # no slot
    client.force_login(StoreManagerFactory(stores=[laugavegur]))
    url = reverse("admin:orders_order_changelist")

    def numbers(**params):
        html = client.get(url, params).content.decode()
        return [number for number in re.findall(r">([A-Z2-9]{8})</a>", html)]

    # then "Today 14:00" shows what must be ready by 14:00, "Today" both of today's, sorted by slot
    assert numbers(slot="h14") == [orders["two"]]
    assert numbers(slot="today", o="4") == [orders["two"], orders["three"]]
    assert numbers(slot="tomorrow") == [orders["tomorrow"]]
    assert numbers(slot="today", o="-4")[0] == orders["three"]
    html = client.get(url, {"slot": "h14"}).content.decode()
    assert "14:00–14:30" in html and "Pickup in store" in html


def test_the_counter_sees_who_collects_on_the_collect_screen(client, laugavegur, mittens):
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], collector_name="Sigríður Jónsdóttir")
    manager = StoreManagerFactory(stores=[laugavegur])
    mark_ready_for_pickup(order=order, by=manager)
    client.force_login(manager)
    page = client.get(reverse("admin:orders_order_collect", args=[order.pk])).content.decode()
    assert re.search(r'data-testid="collect-collector"><strong>Sigríður Jónsdóttir</strong>', page)


def test_a_refused_checkout_keeps_the_chosen_time(client, laugavegur, mittens):
    # given the checkout page with Laugavegur's times grouped by day
    fill_cart(client, mittens)
    html, token = checkout_page(client)
    slot = available_slots(laugavegur)[2]
    assert re.search(rf'<select name="slot-{laugavegur.pk}" [^>]*id="slot-{laugavegur.pk}"', html)
    assert "<optgroup label=" in html

    # when the shopper chooses the third time but leaves out their phone
    response = client.post(
        reverse("checkout:checkout"),
        {**CONTACT, "phone": "", "store": laugavegur.pk, f"slot-{laugavegur.pk}": slot.key, "checkout_token": token},
    )

    # then the page says what is wrong and the time stays chosen
    html = response.content.decode()
    assert response.status_code == 200 and "Enter a phone number" in html
    assert f'<option value="{slot.key}" selected>' in html
    picker = re.search(rf'<select name="slot-{laugavegur.pk}".*?</select>', html, re.S).group(0)
    assert picker.count(" selected>") == 1


def test_curbside_at_a_store_without_it_is_refused_at_the_top_and_keeps_what_was_typed(client, laugavegur, mittens):
    # given two stores at checkout: Laugavegur without curbside pickup, Kringlan with it
    laugavegur.pickup_settings.offers_curbside = False
    laugavegur.pickup_settings.save()
    kringlan = StoreFactory(name="Kringlan", slug="kringlan")
    PickupSettingsFactory(store=kringlan, offers_curbside=True)
    StockLevelFactory(store=kringlan, product=mittens, on_hand=10)
    fill_cart(client, mittens)
    html, token = checkout_page(client)
    # the curbside choice names where it is offered, and each store says whether it offers it
    assert re.search(r'data-testid="curbside-stores">Offered at Kringlan\.<', html)
    assert re.search(rf'value="{laugavegur.pk}"( checked)? data-curbside="false"', html)
    assert re.search(rf'value="{kringlan.pk}"( checked)? data-curbside="true"', html)

    # when the shopper (no JavaScript) chooses curbside at Laugavegur with their car
    response = client.post(
        reverse("checkout:checkout"),
        {
            **CONTACT,
            "store": laugavegur.pk,
            "fulfilment": "curbside",
            "vehicle_description": "Red Yaris",
            "checkout_token": token,
        },
    )

    # then nothing is placed; the box at the top of the page says why, linking to the choice
    html = response.content.decode()
    assert response.status_code == 200 and not Order.objects.exists()
    box = html.split('data-testid="checkout-errors"')[1].split("</div>")[0]
    assert (
        '<a href="#fulfilment-errors">Laugavegur does not offer curbside pickup. Choose pickup in store, or a store '
        "that offers curbside pickup.</a>" in box
    )
    assert 'id="fulfilment-errors"' in html
    # and what was typed and chosen is still there to change
    assert 'value="Red Yaris"' in html and 'value="Anna Jónsdóttir"' in html
    assert f'value="{laugavegur.pk}" checked data-curbside="false"' in html
    assert re.search(r'value="curbside" checked', html)
