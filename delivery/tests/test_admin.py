"""Managers keep their own stores' delivery zones and windows in the admin, and no other's."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from delivery.models import DeliveryWindow, DeliveryZone
from delivery.tests.factories import DeliveryWindowFactory, DeliveryZoneFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stores():
    own = StoreFactory(name="Laugavegur")
    oslo = StoreFactory(name="Grünerløkka", country="NO", city="Oslo", time_zone="Europe/Oslo")
    DeliveryZoneFactory(store=own, name="Miðbær")
    DeliveryZoneFactory(store=oslo, name="Grünerløkka sentrum", postcodes="0550-0559")
    DeliveryWindowFactory(store=own, weekday=0)
    DeliveryWindowFactory(store=oslo, weekday=3, starts="16:00", ends="18:00", cutoff="12:00")
    return own, oslo


@pytest.fixture
def manager(client, stores):
    user = StoreManagerFactory(username="gudrun", stores=[stores[0]])
    client.force_login(user)
    return user


def test_a_manager_lists_only_their_stores_zones_and_windows(client, manager, stores):
    zones = client.get(reverse("admin:delivery_deliveryzone_changelist")).content.decode()
    assert "Miðbær" in zones
    assert "Grünerløkka" not in zones
    windows = client.get(reverse("admin:delivery_deliverywindow_changelist")).content.decode()
    assert "Laugavegur" in windows
    assert "Grünerløkka" not in windows
    oslo_zone = DeliveryZone.objects.get(store=stores[1])
    assert client.get(reverse("admin:delivery_deliveryzone_change", args=[oslo_zone.pk])).status_code == 302


def test_a_manager_adds_a_zone_for_their_store_only(client, manager, stores):
    own, oslo = stores
    page = client.get(reverse("admin:delivery_deliveryzone_add")).content.decode()
    assert "Grünerløkka" not in page
    form = {
        "name": "Vesturbær",
        "is_active": "on",
        "kind": "postcodes",
        "postcodes": "107, 101 - 103",
        "fee": "990",
        "minimum_order": "0",
        "lead_time_minutes": "120",
        "days_ahead": "7",
    }
    # the other store is not a choice
    response = client.post(reverse("admin:delivery_deliveryzone_add"), form | {"store": oslo.pk})
    assert response.status_code == 200
    assert not DeliveryZone.objects.filter(name="Vesturbær").exists()
    # a typo is named and what was typed kept
    response = client.post(
        reverse("admin:delivery_deliveryzone_add"), form | {"store": own.pk, "postcodes": "107, 1O3"}
    )
    assert "“1O3” is not a postcode or a range of postcodes of IS." in response.content.decode()
    assert "107, 1O3" in response.content.decode()
    # a fee the currency cannot pay is refused
    response = client.post(reverse("admin:delivery_deliveryzone_add"), form | {"store": own.pk, "fee": "990.50"})
    assert response.status_code == 200
    assert not DeliveryZone.objects.filter(name="Vesturbær").exists()
    # each money field says so in the words every amount field uses (o2o_site.money.too_many_decimals)
    for field in ("fee", "free_above", "minimum_order"):
        response = client.post(reverse("admin:delivery_deliveryzone_add"), form | {"store": own.pk, field: "10.5"})
        assert response.context["adminform"].form.errors[field] == [
            "Amounts in ISK have no decimals: enter a whole number."
        ]
    assert not DeliveryZone.objects.filter(name="Vesturbær").exists()

    response = client.post(reverse("admin:delivery_deliveryzone_add"), form | {"store": own.pk})
    assert response.status_code == 302
    zone = DeliveryZone.objects.get(name="Vesturbær")
    assert (zone.store, zone.postcodes, zone.fee) == (own, "101-103, 107", Decimal("990"))


def test_a_window_must_end_after_it_starts_and_be_ordered_before(client, manager, stores):
    own, _oslo = stores
    form = {"store": own.pk, "weekday": "4", "starts": "17:00", "ends": "16:00", "cutoff": "18:00", "capacity": "5"}
    response = client.post(reverse("admin:delivery_deliverywindow_add"), form)
    body = response.content.decode()
    assert "A window ends after it starts (on the same day)." in body
    assert "Orders must be taken by the time the window starts." in body
    assert DeliveryWindow.objects.filter(store=own).count() == 1
    response = client.post(reverse("admin:delivery_deliverywindow_add"), form | {"ends": "19:00", "cutoff": "15:00"})
    assert response.status_code == 302
    assert DeliveryWindow.objects.filter(store=own).count() == 2
