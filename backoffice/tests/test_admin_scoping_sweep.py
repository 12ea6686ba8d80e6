"""A manager of one store probes the whole admin for another store's rows: 0 of them appear anywhere.

Unlike test_admin_security.py (one story per door), this sweeps every registered admin: each
list with searches and filters pointed at the other store, every autocomplete of every relation,
every action posted with the other store's ids, and the change, history and delete pages of each
of its rows. Every answer is checked for the other store's order numbers, e-mails, name and SKU.
"""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import NoReverseMatch, reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from orders.models import Notification, Order, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup import curbside
from pickup.models import CurbsideVisit, PickupCodeAttempt, PickupSettings
from pickup.selectors import pickup_of
from pickup.services import WrongPickupCode, collect_order, mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.models import OpeningHours, StockLevel, Store
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

OSLO_NAME = "Grünerløkka"
OSLO_ONLY_SKU = "OSLO-ONLY-77"
OSLO_CAR = "Blå Tesla EL 98765"


@pytest.fixture
def world():
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    oslo = StoreFactory(name=OSLO_NAME, slug="grunerlokka", city="Oslo", country="NO", time_zone="Europe/Oslo")
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("4990"))
    oslo_only = ProductFactory(name="Brunost slicer", sku=OSLO_ONLY_SKU)
    StockLevelFactory(store=laugavegur, product=mittens, on_hand=20)
    StockLevelFactory(store=oslo, product=mittens, on_hand=20)
    StockLevelFactory(store=oslo, product=oslo_only, on_hand=20)
    own = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")
    oslo_orders = [
        place_order(store=oslo, products_and_quantities=[(mittens, 1), (oslo_only, 1)], email=f"ola{n}@example.no")
        for n in range(3)
    ]
    mark_ready_for_pickup(order=oslo_orders[0])
    mark_ready_for_pickup(order=oslo_orders[1])
    oslo_manager = StoreManagerFactory(username="kari", stores=[oslo])
    with pytest.raises(WrongPickupCode):
        collect_order(order=oslo_orders[1], code="not-the-code", by=oslo_manager)
    # and a curbside shopper waiting in bay 3 at Grünerløkka
    PickupSettingsFactory(store=oslo, curbside_bays=4)
    at_the_curb = place_curbside_order(
        store=oslo, products_and_quantities=[(oslo_only, 1)], vehicle=OSLO_CAR, email="ola-curb@example.no"
    )
    mark_ready_for_pickup(order=at_the_curb)
    curbside.check_in(order=at_the_curb, bay=3, vehicle=OSLO_CAR)
    oslo_orders.append(at_the_curb)
    return {"own_store": laugavegur, "oslo": oslo, "own_order": own, "oslo_orders": oslo_orders}


@pytest.fixture
def manager(client, world):
    user = StoreManagerFactory(username="gudrun", stores=[world["own_store"]])
    client.force_login(user)
    return user


def secrets_of_oslo(world):
    secrets = {OSLO_NAME, OSLO_ONLY_SKU, OSLO_CAR}
    for order in world["oslo_orders"]:
        secrets |= {order.number, order.contact_email, pickup_of(order).code}
    return secrets


def leaks(response, world, *, asked=(), catalog_shared=False):
    """The Oslo secrets in a response, apart from what the prober typed in (echoed in the search box)."""
    body = response.content.decode(errors="replace")
    secrets = secrets_of_oslo(world) - {str(value) for value in asked}
    if catalog_shared:
        secrets.discard(OSLO_ONLY_SKU)  # products are one catalog for every store
    return sorted(secret for secret in secrets if secret in body)


def oslo_rows(world):
    """Every row of the Oslo store, per model, that a scoped admin shows."""
    oslo, orders = world["oslo"], world["oslo_orders"]
    return {
        Order: orders,
        Store: [oslo],
        StockLevel: list(StockLevel.objects.filter(store=oslo)),
        Notification: list(Notification.objects.filter(order__store=oslo)),
        PickupCodeAttempt: list(PickupCodeAttempt.objects.filter(order__store=oslo)),
        CurbsideVisit: list(CurbsideVisit.objects.filter(fulfilment__order__store=oslo)),
    }


def admin_url(model, view, *args):
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def test_no_list_search_or_filter_shows_the_other_store(client, manager, world):
    oslo = world["oslo"]
    probes = [
        {},
        {"q": world["oslo_orders"][0].number},
        {"q": "ola0@example.no"},
        {"q": OSLO_NAME},
        {"q": OSLO_ONLY_SKU},
        {"q": "Tesla"},
        {"state__exact": "arrived"},
        {"store__id__exact": oslo.pk},
        {"order__store__id__exact": oslo.pk},
        {"store": oslo.pk},
        {"store__pk": oslo.pk},
        {"id__exact": world["oslo_orders"][0].pk},
        {"pk": world["oslo_orders"][0].pk},
        {"order__id__exact": world["oslo_orders"][0].pk},
        {"_popup": "1", "_to_field": "id"},
        {"all": ""},
    ]
    checked = 0
    for model in admin.site._registry:
        url = admin_url(model, "changelist")
        if model._meta.app_label in {"catalog"}:
            continue  # the catalog is shared by every store (the Oslo-only SKU is a product there)
        for params in probes:
            response = client.get(url, params)
            if response.status_code == 200:
                checked += 1
            assert leaks(response, world, asked=params.values()) == [], (url, params)
    assert checked >= 20


def test_every_autocomplete_of_every_relation_hides_the_other_store(client, manager, world):
    # given every relation of every registered model (whether or not the admin offers an autocomplete)
    checked = 0
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model):
                continue
            for term in ("", "Gr", "ola", world["oslo_orders"][0].number[:4]):
                response = client.get(
                    reverse("admin:autocomplete"),
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field.name,
                        "term": term,
                    },
                )
                checked += 1
                # then the answer is refused, or lists only what the manager may see
                assert leaks(response, world, catalog_shared=field.related_model is Product) == [], (model, field.name)
                if response.status_code == 200 and field.related_model in (Order, Store):
                    ids = {int(result["id"]) for result in response.json()["results"]}
                    foreign = {row.pk for row in oslo_rows(world)[field.related_model]}
                    assert not ids & foreign, (model, field.name)
    assert checked > 40


def test_no_add_or_change_form_offers_the_other_store_in_a_dropdown(client, manager, world):
    for model in admin.site._registry:
        pages = [admin_url(model, "add")]
        own_rows = {
            Order: world["own_order"],
            Store: world["own_store"],
            StockLevel: StockLevel.objects.filter(store=world["own_store"]).first(),
        }
        if model in own_rows:
            pages.append(admin_url(model, "change", own_rows[model].pk))
        for url in filter(None, pages):
            response = client.get(url)
            assert leaks(response, world) == [], url


def test_the_own_stores_page_cannot_reach_the_other_stores_hours_or_pickup_settings(client, manager, world):
    # given Grünerløkka's opening hours and pickup settings as they are
    oslo, own = world["oslo"], world["own_store"]

    def oslo_settings():
        return (
            sorted(OpeningHours.objects.filter(store=oslo).values_list("pk", "weekday", "opens", "closes")),
            list(PickupSettings.objects.filter(store=oslo).values()),
        )

    before = oslo_settings()

    # when the manager posts their own store's page with Grünerløkka's hours in the hours inline
    # (to change it, then to delete it), and with Grünerløkka's pickup settings in the settings inline
    url = reverse("admin:stores_store_change", args=[own.pk])
    form = client.get(url).context["adminform"].form
    page = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    hours_of_oslo = OpeningHours.objects.filter(store=oslo).order_by("pk").first()
    hours = {
        "opening_hours-TOTAL_FORMS": "1",
        "opening_hours-INITIAL_FORMS": "1",
        "opening_hours-MIN_NUM_FORMS": "0",
        "opening_hours-MAX_NUM_FORMS": "1000",
        "opening_hours-0-id": str(hours_of_oslo.pk),
        "opening_hours-0-store": str(own.pk),
        "opening_hours-0-weekday": str(hours_of_oslo.weekday),
        "opening_hours-0-opens": "03:00",
        "opening_hours-0-closes": "04:00",
    }
    settings_form = {
        "pickup_settings-MIN_NUM_FORMS": "0",
        "pickup_settings-MAX_NUM_FORMS": "1",
        "pickup_settings-0-curbside_instructions_en": "Closed for good.",
        "pickup_settings-0-curbside_bays": "1",
        "pickup_settings-0-slot_minutes": "30",
        "pickup_settings-0-orders_per_slot": "1",
        "pickup_settings-0-lead_time_minutes": "60",
        "pickup_settings-0-days_ahead": "1",
        "pickup_settings-0-remind_after_hours": "1",
        "pickup_settings-0-expire_after_days": "1",
    }
    own_settings = {"pickup_settings-TOTAL_FORMS": "1", "pickup_settings-INITIAL_FORMS": "0", **settings_form}
    oslos_settings = {
        "pickup_settings-TOTAL_FORMS": "1",
        "pickup_settings-INITIAL_FORMS": "1",
        "pickup_settings-0-store": str(oslo.pk),
        **settings_form,
    }
    responses = [
        client.post(url, page | hours | own_settings),
        client.post(url, page | hours | {"opening_hours-0-DELETE": "on"} | own_settings),
        client.post(url, page | oslos_settings),
    ]

    # then nothing of Grünerløkka changed, and nothing of it is shown
    assert oslo_settings() == before
    assert [leaks(response, world) for response in responses] == [[], [], []]


def test_every_row_of_the_other_store_is_closed_by_its_address(client, manager, world):
    for model, rows in oslo_rows(world).items():
        for row in rows:
            for view in ("change", "history", "delete"):
                url = admin_url(model, view, row.pk)
                for response in (client.get(url), client.post(url, {"post": "yes"})):
                    assert response.status_code in (302, 403, 404), (url, response.status_code)
                    assert leaks(response, world) == [], url
                    if response.status_code == 302:
                        assert response["Location"] == reverse("admin:index")
    # and nothing was deleted or changed
    assert Order.objects.filter(store=world["oslo"]).count() == 4
    assert StockLevel.objects.filter(store=world["oslo"]).count() == 2


def test_every_action_posted_with_the_other_stores_ids_does_nothing(client, manager, world):
    # given the Oslo rows as they are
    before = (
        sorted(Order.objects.filter(store=world["oslo"]).values_list("pk", "status")),
        sorted(Notification.objects.filter(order__store=world["oslo"]).values_list("pk", "status", "attempts")),
        sorted(StockLevel.objects.filter(store=world["oslo"]).values_list("pk", "on_hand", "reserved")),
        OrderEvent.objects.count(),
        PickupCodeAttempt.objects.filter(cleared_at__isnull=False).count(),
        sorted(CurbsideVisit.objects.filter(fulfilment__order__store=world["oslo"]).values_list("pk", "state", "bay")),
    )

    # when every action of every admin is posted with the Oslo rows' ids
    for model, rows in oslo_rows(world).items():
        model_admin = admin.site._registry[model]
        names = {"delete_selected"} | {name for name in model_admin.actions or ()}
        for name in names:
            response = client.post(
                admin_url(model, "changelist"),
                {"action": name, ACTION_CHECKBOX_NAME: [row.pk for row in rows], "confirm": "yes", "post": "yes"},
            )
            assert leaks(response, world) == [], (model, name)

    # then nothing about Oslo changed
    after = (
        sorted(Order.objects.filter(store=world["oslo"]).values_list("pk", "status")),
        sorted(Notification.objects.filter(order__store=world["oslo"]).values_list("pk", "status", "attempts")),
        sorted(StockLevel.objects.filter(store=world["oslo"]).values_list("pk", "on_hand", "reserved")),
        OrderEvent.objects.count(),
        PickupCodeAttempt.objects.filter(cleared_at__isnull=False).count(),
        sorted(CurbsideVisit.objects.filter(fulfilment__order__store=world["oslo"]).values_list("pk", "state", "bay")),
    )
    assert after == before
    assert Order.objects.get(pk=world["oslo_orders"][0].pk).status == OrderStatus.READY_FOR_PICKUP


def test_the_custom_screens_refuse_the_other_stores_orders(client, manager, world):
    ready, at_the_curb = world["oslo_orders"][0], world["oslo_orders"][-1]
    screens = [
        ("get", reverse("admin:orders_order_curbside_queue"), {}),
        ("get", reverse("admin:orders_order_curbside_queue_rows"), {}),
        (
            "post",
            reverse("admin:orders_order_curbside_hand_over", args=[at_the_curb.number]),
            {"code": pickup_of(at_the_curb).code, "store": "grunerlokka"},
        ),
        ("get", reverse("admin:orders_order_collect", args=[ready.pk]), {}),
        ("post", reverse("admin:orders_order_collect", args=[ready.pk]), {"code": pickup_of(ready).code}),
        ("get", reverse("admin:orders_order_curbside_queue"), {"store": "grunerlokka"}),
        ("get", reverse("admin:orders_order_curbside_queue_rows"), {"store": "grunerlokka"}),
        (
            "post",
            reverse("admin:orders_order_curbside_hand_over", args=[ready.number]),
            {"code": pickup_of(ready).code, "store": "grunerlokka"},
        ),
        ("post", reverse("admin:orders_order_mark_ready", args=[ready.pk]), {}),
        ("get", reverse("admin:orders_order_cancel", args=[ready.pk]), {}),
        ("post", reverse("admin:orders_order_cancel", args=[ready.pk]), {"reason": "store", "note": "crafted"}),
        ("get", reverse("admin:orders_order_refund", args=[ready.pk]), {}),
        ("post", reverse("admin:orders_order_refund", args=[ready.pk]), {"amount": "100", "reason": "goodwill"}),
        ("get", reverse("admin:index"), {}),
    ]
    for method, url, data in screens:
        response = getattr(client, method)(url, data)
        assert leaks(response, world) == [], url
    for order in (ready, at_the_curb):
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
