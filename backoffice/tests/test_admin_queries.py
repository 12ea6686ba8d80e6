"""The manager's order list costs the same number of queries for 10 orders as for 200."""

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

# Session, user, permissions (the user's and the group's), the store filter's choices, the counts
# (filtered and in all), the page of orders with their store and item count, the date
# drill-down's range and days, and the count of orders whose payment authorisation expires soon
# (the warning banner).
ORDER_LIST_QUERIES = 11


@pytest.mark.parametrize("orders_shown", [10, 200])
def test_the_order_list_query_count_does_not_grow_with_the_orders_shown(
    client, django_assert_num_queries, orders_shown
):
    # given a store with many orders, some ready for pickup, and another store's orders too
    store, elsewhere = StoreFactory(name="Laugavegur"), StoreFactory(name="Akureyri")
    products = ProductFactory.create_batch(3)
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=1000)
        StockLevelFactory(store=elsewhere, product=product, on_hand=1000)
    for number in range(orders_shown):
        order = place_order(store=store, products_and_quantities=[(products[number % 3], 1), (products[2], 2)])
        if number % 2:
            mark_ready_for_pickup(order=order)
    place_order(store=elsewhere, products_and_quantities=[(products[0], 1)])
    client.force_login(StoreManagerFactory(stores=[store]))

    # when the manager shows all their orders on one page
    with django_assert_num_queries(ORDER_LIST_QUERIES):
        response = client.get(reverse("admin:orders_order_changelist"), {"all": ""})

    # then every order of the store is on it
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == orders_shown
    assert response.content.decode().count('class="field-number"') == orders_shown


def _store_with_orders(count, *, lines):
    store = StoreFactory(name="Laugavegur", time_zone="Atlantic/Reykjavik")
    products = ProductFactory.create_batch(lines)
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=1000)
    orders = [
        place_order(store=store, products_and_quantities=[(product, 1) for product in products]) for _ in range(count)
    ]
    return store, orders


# The order page with its next-step buttons: session, user, the expiring-authorisation check,
# the store's time zone, the order, permissions (user's, group's), managed stores, the lines,
# fulfilments, notifications and timeline (one query each), the refundable payment, the store,
# the pickup and the payment history. "Ready" adds the hand-over form's reads: the pickup code's
# lock (two) and how the order was paid (authorised? charged?). "Placed" adds which items are
# ready (one), the lines to tick (one), and whether a transfer still brings units of its pickup
# (its pickup fulfilments and orders.selectors.units_on_the_way: two).
ORDER_PAGE_QUERIES = {"placed": 20, "ready": 20}


@pytest.mark.parametrize("status", ["placed", "ready"])
@pytest.mark.parametrize(("orders_in_store", "lines"), [(1, 1), (30, 6)])
def test_the_order_page_with_its_next_steps_costs_the_same_however_many_orders_and_lines(
    client, django_assert_num_queries, status, orders_in_store, lines
):
    # given a store with many orders (or one), each of several lines (or one)
    store, orders = _store_with_orders(orders_in_store, lines=lines)
    order = orders[-1]
    if status == "ready":
        mark_ready_for_pickup(order=order)
    client.force_login(StoreManagerFactory(stores=[store]))
    url = reverse("admin:orders_order_change", args=[order.pk])
    client.get(url)  # the admin's own first-visit reads (content types) are not the page's

    # when the manager opens the order's page
    with django_assert_num_queries(ORDER_PAGE_QUERIES[status]):
        response = client.get(url)

    # then it offers the order's next steps, and lists every line
    page = response.content.decode()
    assert ('data-testid="mark-ready-form"' in page) is (status == "placed")
    assert ('data-testid="hand-over-form"' in page) is (status == "ready")
    assert 'data-testid="cancel-form"' in page
    assert page.count('class="field-sku"') == lines


# Session, user, permissions (user's, group's), the managed stores (once: the menu's and the
# queue's), the visits with their orders, pickups and stores, and the orders' lines.
QUEUE_PAGE_QUERIES = 7


@pytest.mark.parametrize("waiting", [2, 30])
def test_the_curbside_queue_page_costs_the_same_however_many_wait(client, django_assert_num_queries, waiting):
    # given `waiting` curbside shoppers at the store, half at the curb, half on the way
    from pickup import curbside
    from pickup.tests.factories import PickupSettingsFactory, place_curbside_order

    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store, curbside_bays=4)
    products = ProductFactory.create_batch(2)
    for product in products:
        StockLevelFactory(store=store, product=product, on_hand=1000)
    for index in range(waiting):
        order = mark_ready_for_pickup(
            order=place_curbside_order(
                store=store,
                products_and_quantities=[(product, 1) for product in products],
                email=f"s{index}@example.com",
            )
        )
        if index % 2:
            curbside.check_in(order=order, bay=1 + index % 4)
        else:
            curbside.announce_on_the_way(order=order, eta_minutes=index)
    client.force_login(StoreManagerFactory(stores=[store]))
    url = reverse("admin:orders_order_curbside_queue")
    client.get(url)

    # when staff open the queue page (the admin's menu and all)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get(url)

    # then every shopper is on it
    assert response.content.decode().count('data-testid="queue-row"') == waiting
