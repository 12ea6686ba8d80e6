"""The store's pickup settings (curbside, slots, reminders, expiry) are set on its admin page."""

import pytest
from django.urls import reverse

from pickup.models import PickupSettings
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


def _empty_management_form():
    return {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def test_curbside_visits_are_listed_for_the_superuser(admin_client):
    assert admin_client.get(reverse("admin:pickup_curbsidevisit_changelist")).status_code == 200
