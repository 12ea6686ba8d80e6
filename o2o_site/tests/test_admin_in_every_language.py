"""The admin screens we added, in Icelandic and Norwegian: our own labels, actions, messages and
pages (the collect screen, the cancel confirmation, the pickup settings) carry no English."""

import html
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from o2o_site.tests.po import english_left_in
from orders.models import Notification, NotificationKind
from orders.tests.factories import place_order
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = StoreFactory(name="Laugavegur")
    mittens = ProductFactory(name_en="Wool mittens", name_is="Lopavettlingar", name_nb="Ullvotter")
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    ready = mark_ready_for_pickup(order=place_order(store=store, products_and_quantities=[(mittens, 1)]))
    placed = place_order(store=store, products_and_quantities=[(mittens, 1)])
    return {"store": store, "product": mittens, "ready": ready, "placed": placed}


def admin_pages(shop):
    return {
        "orders": reverse("admin:orders_order_changelist"),
        "order": reverse("admin:orders_order_change", args=[shop["ready"].pk]),
        "placed order": reverse("admin:orders_order_change", args=[shop["placed"].pk]),
        "cancel order": reverse("admin:orders_order_cancel", args=[shop["placed"].pk]),
        "curbside queue": reverse("admin:orders_order_curbside_queue"),
        "collect": reverse("admin:orders_order_collect", args=[shop["ready"].pk]),
        "notifications": reverse("admin:orders_notification_changelist"),
        "notification": reverse(
            "admin:orders_notification_change",
            args=[Notification.objects.get(order=shop["ready"], kind=NotificationKind.READY_FOR_PICKUP).pk],
        ),
        "stock": reverse("admin:stores_stocklevel_changelist"),
        "stock level": reverse(
            "admin:stores_stocklevel_change", args=[StockLevel.objects.get(product=shop["product"]).pk]
        ),
        "store": reverse("admin:stores_store_change", args=[shop["store"].pk]),
        "products": reverse("admin:catalog_product_changelist"),
        "product": reverse("admin:catalog_product_change", args=[shop["product"].pk]),
        "category": reverse("admin:catalog_category_change", args=[shop["product"].category_id]),
    }


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_admin_screens_we_added_are_translated(client, shop, language):
    # given a manager of the store who reads Icelandic or Norwegian
    manager = StoreManagerFactory(stores=[shop["store"]], is_superuser=True)
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    untranslated = {}
    for name, url in admin_pages(shop).items():
        # when they open each screen
        response = client.get(url)
        assert response.status_code == 200, name
        # then none of our English is left on it
        if left := english_left_in(html.unescape(response.content.decode()), language):
            untranslated[name] = left

    # and the cancel confirmation, reached through the order list's action, is translated too
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [shop["placed"].pk]},
    )
    assert response.status_code == 200
    if left := english_left_in(html.unescape(response.content.decode()), language):
        untranslated["cancel confirmation"] = left
    assert untranslated == {}


def test_the_product_admin_has_a_name_and_description_field_per_language(admin_client, shop):
    html_page = admin_client.get(reverse("admin:catalog_product_change", args=[shop["product"].pk])).content.decode()
    for field in ("name_en", "name_is", "name_nb", "description_en", "description_is", "description_nb"):
        assert f'name="{field}"' in html_page
    assert 'value="Lopavettlingar"' in html_page


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_curbside_queue_is_translated(client, language):
    # given a store with one curbside shopper at the curb and one on the way
    from pickup.curbside import announce_on_the_way, check_in
    from pickup.tests.factories import PickupSettingsFactory, place_curbside_order

    store = StoreFactory(name="Laugavegur")
    PickupSettingsFactory(store=store)
    mittens = ProductFactory(name_en="Wool mittens", name_is="Lopavettlingar", name_nb="Ullvotter")
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    waiting, coming = (
        mark_ready_for_pickup(order=place_curbside_order(store=store, products_and_quantities=[(mittens, 1)]))
        for _ in range(2)
    )
    check_in(order=waiting, bay=2, vehicle="Red Toyota Yaris")
    announce_on_the_way(order=coming, eta_minutes=10)

    # when the store's manager, reading Icelandic or Norwegian, opens the queue (and its live rows)
    client.force_login(StoreManagerFactory(stores=[store]))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = {
        name: client.get(reverse(name))
        for name in ("admin:orders_order_curbside_queue", "admin:orders_order_curbside_queue_rows")
    }

    # then both show the two shoppers, with none of our English left
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = html.unescape(response.content.decode())
        assert waiting.number in text and coming.number in text, name
        assert english_left_in(text, language) == [], name


@pytest.mark.parametrize(
    ("language", "choose", "remove_all"),
    [
        ("is", "Veldu %s með því að merkja við þau", "Fjarlægja öll %s"),
        ("nb", "Velg %s ved å merke dem", "Fjern alle %s"),
    ],
)
def test_the_admin_many_to_many_selector_is_translated_whole(admin_client, language, choose, remove_all):
    # given the admin's JavaScript catalogue (the filter_horizontal selector's sentences)
    response = admin_client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE=language)

    # then the sentences Django's own catalogue lacks in is/nb are ours, not left in English
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", response.content.decode(), re.S).group(1))
    assert catalog['Choose %s by selecting them and then select the "Choose" arrow button.'].startswith(choose)
    assert catalog["Remove all %s"] == remove_all
