"""The store's pickup settings (curbside, slots, reminders, expiry) are set on its admin page."""

import datetime

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from pickup.models import PickupSettings
from stores.models import OpeningHours
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_a_superuser_turns_on_curbside_and_sets_the_slot_rules_on_the_store_page(admin_client):
    # given a store without pickup settings (it runs on the defaults)
    store = StoreFactory(name="Laugavegur", open_every_day=False)
    assert not PickupSettings.objects.filter(store=store).exists()
    assert PickupSettings.for_store(store).orders_per_slot == 10
    url = reverse("admin:stores_store_change", args=[store.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["managers"] = []
    data.update({f"opening_hours-{key}": value for key, value in _empty_management_form().items()})
    data.update({f"special_hours-{key}": value for key, value in _empty_management_form().items()})
    data.update(
        {
            "pickup_settings-TOTAL_FORMS": "1",
            "pickup_settings-INITIAL_FORMS": "0",
            "pickup_settings-MIN_NUM_FORMS": "0",
            "pickup_settings-MAX_NUM_FORMS": "1",
            "pickup_settings-0-offers_curbside": "on",
            "pickup_settings-0-curbside_instructions_en": "Green bays by the side entrance.",
            "pickup_settings-0-curbside_bays": "6",
            "pickup_settings-0-slot_minutes": "15",
            "pickup_settings-0-orders_per_slot": "4",
            "pickup_settings-0-lead_time_minutes": "120",
            "pickup_settings-0-days_ahead": "3",
            "pickup_settings-0-remind_after_hours": "48",
            "pickup_settings-0-expire_after_days": "10",
        }
    )

    # when they save the store
    response = admin_client.post(url, data)

    # then the store offers curbside with its bays, and its slots follow the new rules
    assert response.status_code == 302
    rules = PickupSettings.objects.get(store=store)
    assert rules.offers_curbside and rules.curbside_bays == 6
    assert (rules.slot_minutes, rules.orders_per_slot, rules.lead_time_minutes, rules.days_ahead) == (15, 4, 120, 3)
    assert (rules.remind_after_hours, rules.expire_after_days) == (48, 10)


def test_a_manager_keeps_their_stores_hours_and_pickup_settings_but_not_its_address(client):
    # given Guðrún runs Laugavegur, which has no curbside yet
    store = StoreFactory(name="Laugavegur", address="Laugavegur 12", open_every_day=False)
    client.force_login(StoreManagerFactory(stores=[store]))
    url = reverse("admin:stores_store_change", args=[store.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "address" not in form.fields and "managers" not in form.fields

    # when she opens on Saturdays, turns on curbside, and tries to move the store too
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["address"] = "Somewhere else 1"
    data.update(
        {
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-MIN_NUM_FORMS": "0",
            "opening_hours-MAX_NUM_FORMS": "1000",
            "opening_hours-0-weekday": "5",
            "opening_hours-0-opens": "11:00",
            "opening_hours-0-closes": "16:00",
            **{f"special_hours-{key}": value for key, value in _empty_management_form().items()},
            "pickup_settings-TOTAL_FORMS": "1",
            "pickup_settings-INITIAL_FORMS": "0",
            "pickup_settings-MIN_NUM_FORMS": "0",
            "pickup_settings-MAX_NUM_FORMS": "1",
            "pickup_settings-0-offers_curbside": "on",
            "pickup_settings-0-curbside_instructions_en": "Bays 1-4 by the side entrance.",
            "pickup_settings-0-curbside_bays": "4",
            "pickup_settings-0-slot_minutes": "30",
            "pickup_settings-0-orders_per_slot": "6",
            "pickup_settings-0-lead_time_minutes": "60",
            "pickup_settings-0-days_ahead": "5",
            "pickup_settings-0-remind_after_hours": "24",
            "pickup_settings-0-expire_after_days": "7",
        }
    )
    response = client.post(url, data)

    # then the hours and curbside are saved, and the address is what head office set
    assert response.status_code == 302
    assert list(OpeningHours.objects.filter(store=store).values_list("weekday", "opens", "closes")) == [
        (5, datetime.time(11), datetime.time(16))
    ]
    assert PickupSettings.objects.get(store=store).offers_curbside
    store.refresh_from_db()
    assert store.address == "Laugavegur 12"


def test_a_manager_cannot_open_another_stores_settings(client):
    laugavegur, grensasvegur = StoreFactory(name="Laugavegur"), StoreFactory(name="Grensásvegur")
    client.force_login(StoreManagerFactory(stores=[laugavegur]))

    response = client.get(reverse("admin:stores_store_change", args=[grensasvegur.pk]))

    assert response.status_code == 302  # "doesn't exist", back to the admin's index
    assert not PickupSettings.objects.filter(store=grensasvegur).exists()


def _empty_management_form():
    return {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def test_curbside_visits_are_listed_for_the_superuser(admin_client):
    assert admin_client.get(reverse("admin:pickup_curbsidevisit_changelist")).status_code == 200
