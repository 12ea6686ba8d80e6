"""A manager of one store cannot see or act on another store's orders and stock in the admin."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import Notification, NotificationKind, Order, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def grunerlokka():
    return StoreFactory(
        name="Grünerløkka",
        slug="grunerlokka",
        city="Oslo",
        country="NO",
        postcode="0552",
        latitude=Decimal("59.923000"),
        longitude=Decimal("10.758000"),
        time_zone="Europe/Oslo",
    )


@pytest.fixture
def mittens(laugavegur, grunerlokka):
    product = ProductFactory(name="Lopi mittens", sku="LOPI-1")
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    StockLevelFactory(store=grunerlokka, product=product, on_hand=10)
    return product


@pytest.fixture
def reykjavik_order(laugavegur, mittens):
    return place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")


@pytest.fixture
def oslo_order(grunerlokka, mittens):
    return place_order(store=grunerlokka, products_and_quantities=[(mittens, 2)], email="ola@example.no")


@pytest.fixture
def reykjavik_manager(client, laugavegur):
    manager = StoreManagerFactory(username="gudrun", stores=[laugavegur])
    client.force_login(manager)
    return manager


def post_action(client, action, orders, **extra):
    return client.post(
        CHANGELIST,
        {"action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders], **extra},
    )


def oslo_stock(grunerlokka, mittens):
    return StockLevel.objects.get(store=grunerlokka, product=mittens)


def test_a_manager_lists_only_their_own_stores_orders(client, reykjavik_manager, reykjavik_order, oslo_order):
    # when the Reykjavík manager opens the order list
    response = client.get(CHANGELIST)

    # then the Reykjavík order is there and the Oslo order is not
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [reykjavik_order]
    assert oslo_order.number not in response.content.decode()


def test_searching_for_another_stores_order_finds_nothing(client, reykjavik_manager, reykjavik_order, oslo_order):
    # when the Reykjavík manager searches for the Oslo order by number and by e-mail
    by_number = client.get(CHANGELIST, {"q": oslo_order.number})
    by_email = client.get(CHANGELIST, {"q": "ola@example.no"})

    # then neither search shows it
    assert list(by_number.context["cl"].result_list) == []
    assert list(by_email.context["cl"].result_list) == []


def test_the_store_filter_offers_only_the_managers_stores(client, laugavegur, grunerlokka, reykjavik_order, oslo_order):
    # given a manager of Laugavegur and a third store, Akureyri (not Grünerløkka)
    akureyri = StoreFactory(name="Akureyri", city="Akureyri")
    manager = StoreManagerFactory(stores=[laugavegur, akureyri])
    client.force_login(manager)

    # when they open the order list
    page = client.get(CHANGELIST).content.decode()

    # then the filter lists their two stores and not Grünerløkka
    assert "Akureyri" in page and "Laugavegur" in page
    assert "Grünerløkka" not in page


def test_filtering_by_another_store_in_the_address_bar_shows_nothing(
    client, reykjavik_manager, grunerlokka, oslo_order
):
    # when the manager types another store's id into the filter
    response = client.get(CHANGELIST, {"store__id__exact": grunerlokka.pk})

    # then no order of that store is shown
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("view", ["change", "history"])
def test_a_manager_cannot_open_another_stores_order(client, reykjavik_manager, oslo_order, view):
    # when the Reykjavík manager opens the Oslo order's page by its id
    response = client.get(reverse(f"admin:orders_order_{view}", args=[oslo_order.pk]), follow=True)

    # then the admin says there is no such order and shows nothing of it
    page = response.content.decode()
    assert response.redirect_chain[0] == (reverse("admin:index"), 302)
    assert oslo_order.number not in page
    assert oslo_order.contact_email not in page


def test_a_manager_cannot_mark_another_stores_order_ready(client, reykjavik_manager, oslo_order, mailoutbox):
    # when the Reykjavík manager posts "mark ready" with the Oslo order's id
    post_action(client, "mark_ready_for_pickup", [oslo_order])

    # then the Oslo order is untouched: no status change, no event, no e-mail queued or sent
    oslo_order.refresh_from_db()
    assert oslo_order.status == OrderStatus.PLACED
    assert list(OrderEvent.objects.filter(order=oslo_order).values_list("to_status", flat=True)) == ["placed"]
    assert not Notification.objects.filter(order=oslo_order, kind=NotificationKind.READY_FOR_PICKUP).exists()
    assert mailoutbox == []


def test_a_manager_cannot_cancel_another_stores_order(client, reykjavik_manager, grunerlokka, mittens, oslo_order):
    # when the Reykjavík manager posts a confirmed "cancel" with the Oslo order's id
    post_action(client, "cancel_orders", [oslo_order], confirm="yes")

    # then the order stands and its units are still reserved
    oslo_order.refresh_from_db()
    assert oslo_order.status == OrderStatus.PLACED
    assert oslo_stock(grunerlokka, mittens).reserved == 2


def test_a_manager_acting_on_a_mix_of_orders_moves_only_their_own(
    client, reykjavik_manager, reykjavik_order, oslo_order
):
    # when the Reykjavík manager selects their order and slips in the Oslo order's id
    post_action(client, "mark_ready_for_pickup", [reykjavik_order, oslo_order])

    # then only the Reykjavík order moved
    assert Order.objects.get(pk=reykjavik_order.pk).status == OrderStatus.READY_FOR_PICKUP
    assert Order.objects.get(pk=oslo_order.pk).status == OrderStatus.PLACED


def test_a_manager_cannot_collect_another_stores_order_even_with_its_code(
    client, reykjavik_manager, grunerlokka, mittens, oslo_order
):
    # given the Oslo order is ready for pickup
    mark_ready_for_pickup(order=oslo_order)
    url = reverse("admin:orders_order_collect", args=[oslo_order.pk])

    # when the Reykjavík manager opens its collect screen, and posts the right code to it
    opened = client.get(url)
    posted = client.post(url, {"code": pickup_of(oslo_order).code})

    # then both are 404 and the order is still waiting with its units reserved
    assert opened.status_code == 404
    assert posted.status_code == 404
    oslo_order.refresh_from_db()
    assert oslo_order.status == OrderStatus.READY_FOR_PICKUP
    assert pickup_of(oslo_order).fulfilment.fulfilled_by is None
    assert oslo_stock(grunerlokka, mittens).reserved == 2


def test_the_view_on_site_redirect_never_leads_staff_to_a_shoppers_order_page(
    client, reykjavik_manager, reykjavik_order, oslo_order
):
    # given the admin's "view on site" address for orders (the shopper's page shows the pickup code)
    content_type = ContentType.objects.get_for_model(Order)

    # when the manager tries it for another store's order and for their own
    foreign = client.get(reverse("admin:view_on_site", args=[content_type.pk, oslo_order.pk]))
    own = client.get(reverse("admin:view_on_site", args=[content_type.pk, reykjavik_order.pk]))

    # then neither redirects to the shopper's signed link
    assert foreign.status_code == 404
    assert own.status_code == 404


def test_view_on_site_still_works_for_what_a_manager_may_see(client, reykjavik_manager, mittens):
    # when the manager asks to see a product on the shop
    content_type = ContentType.objects.get_for_model(mittens)
    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, mittens.pk]))

    # then they are sent to the product page
    assert response.status_code == 302
    assert response["Location"].endswith(mittens.get_absolute_url())


def test_a_manager_sees_only_their_stores_stock(client, reykjavik_manager, laugavegur, mittens):
    # when the Reykjavík manager opens the stock list
    response = client.get(reverse("admin:stores_stocklevel_changelist"))

    # then only Laugavegur's row is listed, and Grünerløkka is named nowhere
    assert [level.store for level in response.context["cl"].result_list] == [laugavegur]
    assert "Grünerløkka" not in response.content.decode()


def test_a_manager_cannot_change_another_stores_stock(client, reykjavik_manager, grunerlokka, mittens):
    # given Grünerløkka's stock row for the mittens
    level = oslo_stock(grunerlokka, mittens)

    # when the Reykjavík manager opens it, and posts a new count for it in the stock list
    opened = client.get(reverse("admin:stores_stocklevel_change", args=[level.pk]))
    client.post(
        reverse("admin:stores_stocklevel_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": level.pk,
            "form-0-on_hand": "0",
            "_save": "Save",
        },
    )

    # then the page is not shown and the count is what it was
    assert opened.status_code == 302
    assert opened["Location"] == reverse("admin:index")
    level.refresh_from_db()
    assert level.on_hand == 10


def test_a_manager_sees_only_their_store_and_cannot_change_its_managers(
    client, reykjavik_manager, laugavegur, grunerlokka
):
    # when the manager opens the store list and their store's page, and saves that page with
    # its managers emptied (they may keep their store's phone and hours, not its managers)
    listed = client.get(reverse("admin:stores_store_changelist"))
    own = client.get(reverse("admin:stores_store_change", args=[laugavegur.pk]))
    foreign = client.get(reverse("admin:stores_store_change", args=[grunerlokka.pk]))
    form = own.context["adminform"].form
    page = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    inlines = {
        f"{prefix}-{field}": value
        for prefix in ("opening_hours", "special_hours", "pickup_settings")
        for field, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"))
    }
    posted = client.post(reverse("admin:stores_store_change", args=[laugavegur.pk]), page | inlines | {"managers": []})

    # then only their store is listed, its managers are not theirs to change, and the other is hidden
    assert list(listed.context["cl"].result_list) == [laugavegur]
    assert own.status_code == 200
    assert "managers" not in form.fields
    assert foreign.status_code == 302
    assert posted.status_code == 302
    assert list(laugavegur.managers.all()) == [reykjavik_manager]


def test_a_superuser_sees_every_stores_orders(admin_client, reykjavik_order, oslo_order):
    # when the superuser opens the order list and the Oslo order
    listed = admin_client.get(CHANGELIST)
    opened = admin_client.get(reverse("admin:orders_order_change", args=[oslo_order.pk]))

    # then both orders are there
    assert set(listed.context["cl"].result_list) == {reykjavik_order, oslo_order}
    assert opened.status_code == 200


def test_nobody_adds_or_deletes_orders_in_the_admin(admin_client, reykjavik_order):
    # when even the superuser tries to add or delete an order
    add = admin_client.get(reverse("admin:orders_order_add"))
    delete = admin_client.post(reverse("admin:orders_order_delete", args=[reykjavik_order.pk]), {"post": "yes"})

    # then both are refused and the order is still there
    assert add.status_code == 403
    assert delete.status_code == 403
    assert Order.objects.filter(pk=reykjavik_order.pk).exists()
