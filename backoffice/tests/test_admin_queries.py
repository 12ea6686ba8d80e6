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
