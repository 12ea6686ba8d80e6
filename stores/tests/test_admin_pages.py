"""Every admin page a manager or the superuser can reach renders, with the shop's data in it."""

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Notification, NotificationKind
from orders.tests.factories import place_order
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = StoreFactory(name="Laugavegur")
    mittens = ProductFactory(name="Lopi mittens")
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(mittens, 1)])
    mark_ready_for_pickup(order=order)
    PostcodeLocationFactory()
    return {"store": store, "product": mittens, "order": order}


def object_pages(shop, manager):
    return {
        "orders_order": shop["order"].pk,
        "orders_notification": Notification.objects.get(order=shop["order"], kind=NotificationKind.READY_FOR_PICKUP).pk,
        "stores_stocklevel": StockLevel.objects.get(store=shop["store"]).pk,
        "stores_store": shop["store"].pk,
        "catalog_product": shop["product"].pk,
        "catalog_category": shop["product"].category_id,
        "accounts_user": manager.pk,
    }


def test_the_superuser_can_open_every_list_and_page(admin_client, shop):
    # given a shop with a ready order and a manager
    manager = StoreManagerFactory(stores=[shop["store"]])
    pages = object_pages(shop, manager)
    pages["stores_postcodelocation"] = None

    for name, pk in pages.items():
        # when the superuser opens the list and, where there is one, an object's page
        listed = admin_client.get(reverse(f"admin:{name}_changelist"))
        # then both render
        assert listed.status_code == 200, name
        if pk is not None:
            assert admin_client.get(reverse(f"admin:{name}_change", args=[pk])).status_code == 200, name
    for name in ("stores_store", "stores_stocklevel", "catalog_product", "catalog_category", "accounts_user"):
        assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 200, name


def test_a_manager_sees_what_they_run_and_nothing_of_the_shops_users(client, shop):
    # given a manager of the store
    manager = StoreManagerFactory(stores=[shop["store"]])
    client.force_login(manager)
    pages = object_pages(shop, manager)
    del pages["accounts_user"]

    # when they open the admin home, then each list and page of their store
    home = client.get(reverse("admin:index"))
    for name, pk in pages.items():
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:{name}_change", args=[pk])).status_code == 200, name

    # then the home lists orders and stock, and users and postcodes are out of reach
    assert reverse("admin:orders_order_changelist") in home.content.decode()
    assert reverse("admin:accounts_user_changelist") not in home.content.decode()
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:stores_postcodelocation_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_product_add")).status_code == 403
