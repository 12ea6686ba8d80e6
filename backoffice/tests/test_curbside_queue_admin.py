"""The curbside queue is a staff page of the admin: in the admin's layout, listed in its index
and menu for whoever may hand orders over, and its former storefront addresses lead to it."""

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderStatus
from pickup import curbside
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:orders_order_curbside_queue")


@pytest.fixture
def store():
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(store=laugavegur, curbside_bays=4)
    return laugavegur


@pytest.fixture
def manager(client, store):
    gunnar = StoreManagerFactory(username="gunnar", first_name="Gunnar", stores=[store])
    client.force_login(gunnar)
    return gunnar


@pytest.fixture
def at_the_curb(store, manager):
    mittens = ProductFactory(name="Lopi mittens", sku="MIT-1")
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    order = mark_ready_for_pickup(
        order=place_curbside_order(store=store, products_and_quantities=[(mittens, 1)]), by=manager
    )
    curbside.check_in(order=order, bay=3)
    return order


def test_the_queue_is_an_admin_page(client, manager, at_the_curb):
    page = client.get(QUEUE).content.decode()

    # the admin's layout: its header, its breadcrumbs back to the orders, its menu; not the storefront's
    assert 'id="header"' in page and 'id="nav-sidebar"' in page
    assert f'<a href="{reverse("admin:orders_order_changelist")}">Orders</a>' in page
    assert "<h1>Curbside queue</h1>" in page
    assert 'class="site-header"' not in page and "/static/css/shop.css" not in page
    # the row links to the order's admin page, and hands over to the admin's own address
    assert f'href="{reverse("admin:orders_order_change", args=[at_the_curb.pk])}"' in page
    assert f'action="{reverse("admin:orders_order_curbside_hand_over", args=[at_the_curb.number])}"' in page


def test_the_queue_is_listed_in_the_admin_index_and_menu_for_managers_only(client, manager, store):
    link = f'<a href="{QUEUE}">Curbside queue</a>'

    # a manager finds it in the index, the orders app's page and the menu beside every list
    assert link in client.get(reverse("admin:index")).content.decode()
    assert link in client.get(reverse("admin:app_list", args=["orders"])).content.decode()
    assert link in client.get(reverse("admin:stores_store_changelist")).content.decode()

    # staff who may not hand orders over neither see it nor open it
    client.force_login(UserFactory(username="intern", is_staff=True))
    assert "Curbside queue" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(QUEUE).status_code == 403


def test_the_former_addresses_lead_to_the_admin_queue(client, manager, store, at_the_curb):
    # a bookmark, and an open tab's poll (which then reloads the page), keep the chosen store
    assert client.get("/pickup/queue/", {"store": "laugavegur"})["Location"] == f"{QUEUE}?store=laugavegur"
    rows = client.get("/pickup/queue/rows/")
    assert (rows.status_code, rows["Location"]) == (302, reverse("admin:orders_order_curbside_queue_rows"))

    # a hand-over posted from a tab opened before the move is sent on as the same POST
    response = client.post(
        f"/pickup/queue/{at_the_curb.number}/hand-over/",
        {"code": pickup_of(at_the_curb).code, "till_receipt_number": "4711"},
        follow=True,
    )
    assert response.redirect_chain[0] == (
        reverse("admin:orders_order_curbside_hand_over", args=[at_the_curb.number]),
        307,
    )
    at_the_curb.refresh_from_db()
    assert at_the_curb.status == OrderStatus.COLLECTED
