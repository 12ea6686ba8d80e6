"""Who may run a store in the admin: the "Store managers" group and Store.managers."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from stores.services import (
    STORE_MANAGER_GROUP,
    add_store_manager,
    refresh_store_manager_group,
    remove_store_manager,
)
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

EXPECTED_PERMISSIONS = {
    "orders.view_order",
    "orders.change_order",
    "orders.view_orderline",
    "orders.view_orderevent",
    "orders.view_fulfilment",
    "orders.view_notification",
    "pickup.view_pickupcodeattempt",
    "pickup.reset_pickup_code_lock",
    "stores.view_stocklevel",
    "stores.change_stocklevel",
    "stores.view_store",
    "stores.change_store",
    "stores.view_openinghours",
    "stores.add_openinghours",
    "stores.change_openinghours",
    "stores.delete_openinghours",
    "stores.view_specialopeninghours",
    "stores.add_specialopeninghours",
    "stores.change_specialopeninghours",
    "stores.delete_specialopeninghours",
    "pickup.view_pickupsettings",
    "pickup.add_pickupsettings",
    "pickup.change_pickupsettings",
    "pickup.view_curbsidevisit",
    # Their stores' delivery zones and windows, and the deliveries (issue 11).
    "delivery.view_deliveryzone",
    "delivery.add_deliveryzone",
    "delivery.change_deliveryzone",
    "delivery.delete_deliveryzone",
    "delivery.view_deliverywindow",
    "delivery.add_deliverywindow",
    "delivery.change_deliverywindow",
    "delivery.delete_deliverywindow",
    "delivery.view_delivery",
    "payment.view_payment",
    "payment.view_paymentevent",
    # Refunds from the order's page (issue 10), for their own stores' orders only.
    "payment.view_refund",
    "payment.add_refund",
    "catalog.view_product",
    "catalog.view_category",
    "payment.view_receipt",
    "returns.view_return",
    "returns.add_return",
    "returns.view_storecredit",
    "shipping.view_shipment",
    "shipping.change_shipment",
    "campaigns.view_emailconsent",
    "campaigns.add_emailconsent",
    "campaigns.view_consentevent",
    "coupons.view_redemption",
    "coupons.add_redemption",
    "coupons.view_coupon",
    "coupons.add_coupon",
    "coupons.change_coupon",
    "coupons.view_couponcode",
    "coupons.add_couponcode",
    "coupons.change_couponcode",
    "coupons.delete_couponcode",
    "coupons.view_couponbatch",
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "transfers.view_transfer",
    "transfers.change_transfer",
    "rewards.view_rewardaccount",
    "rewards.view_rewardentry",
    "rewards.add_rewardentry",
    "transfers.view_transferline",
    "transfers.view_transferevent",
    "analytics.view_dailystorefigures",
}


def test_a_new_manager_becomes_staff_in_the_managers_group_with_exactly_the_managers_permissions():
    # given a shop assistant with an ordinary account and the Laugavegur store
    store = StoreFactory(name="Laugavegur")
    assistant = UserFactory(username="gudrun")

    # when she is made a manager of the store
    add_store_manager(store=store, user=assistant)

    # then she is staff, in the group, linked to the store, and may do what a manager does and no more
    assistant.refresh_from_db()
    assert assistant.is_staff and not assistant.is_superuser
    assert list(assistant.managed_stores.all()) == [store]
    assert list(assistant.groups.values_list("name", flat=True)) == [STORE_MANAGER_GROUP]
    assert assistant.get_all_permissions() == EXPECTED_PERMISSIONS


def test_adding_managers_again_keeps_one_group_with_the_same_permissions():
    # given two stores and a manager of the first
    first, second = StoreFactory(), StoreFactory()
    manager = StoreManagerFactory(stores=[first])

    # when the same manager is added again and to a second store
    add_store_manager(store=first, user=manager)
    add_store_manager(store=second, user=manager)

    # then there is still one group, and the manager runs both stores
    assert Group.objects.filter(name=STORE_MANAGER_GROUP).count() == 1
    assert set(manager.managed_stores.all()) == {first, second}
    assert manager.get_all_permissions() == EXPECTED_PERMISSIONS


def test_a_manager_who_loses_their_last_store_leaves_the_group():
    # given a manager of two stores
    first, second = StoreFactory(), StoreFactory()
    manager = StoreManagerFactory(stores=[first, second])

    # when one store is taken away, then the other
    remove_store_manager(store=first, user=manager)
    still_in_group = manager.groups.filter(name=STORE_MANAGER_GROUP).exists()
    remove_store_manager(store=second, user=manager)

    # then they keep the group while they run a store, and lose its permissions after
    assert still_in_group
    assert not manager.managed_stores.exists()
    assert manager.get_all_permissions() == set()


def test_a_superuser_choosing_managers_on_the_store_page_sets_them_up_through_the_service(admin_client):
    # given a store run by one manager, and an assistant who will take over
    store = StoreFactory(name="Laugavegur", open_every_day=False)
    leaving = StoreManagerFactory(stores=[store])
    arriving = UserFactory(username="sigrun")
    url = reverse("admin:stores_store_change", args=[store.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "managers": [arriving.pk],
            "opening_hours-TOTAL_FORMS": "0",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-MIN_NUM_FORMS": "0",
            "opening_hours-MAX_NUM_FORMS": "1000",
            # special dates (holidays, closures) are an inline of the store; none added here
            "special_hours-TOTAL_FORMS": "0",
            "special_hours-INITIAL_FORMS": "0",
            "special_hours-MIN_NUM_FORMS": "0",
            "special_hours-MAX_NUM_FORMS": "1000",
            # the store's pickup settings (curbside, slots) are an inline too; none added here
            "pickup_settings-TOTAL_FORMS": "0",
            "pickup_settings-INITIAL_FORMS": "0",
            "pickup_settings-MIN_NUM_FORMS": "0",
            "pickup_settings-MAX_NUM_FORMS": "1",
        }
    )

    # when the superuser saves the store with the new manager chosen
    response = admin_client.post(url, data)

    # then the newcomer is a staff manager in the group, and the one who left is out of it
    assert response.status_code == 302, response.context["adminform"].form.errors
    arriving.refresh_from_db()
    assert list(store.managers.all()) == [arriving]
    assert arriving.is_staff and arriving.groups.filter(name=STORE_MANAGER_GROUP).exists()
    assert not leaving.groups.filter(name=STORE_MANAGER_GROUP).exists()


def test_a_release_that_changes_what_managers_may_do_reaches_the_existing_group():
    # given a group set up by an earlier release, with fewer permissions than today
    add_store_manager(store=StoreFactory(), user=UserFactory(username="gudrun"))
    group = Group.objects.get(name=STORE_MANAGER_GROUP)
    group.permissions.remove(*group.permissions.filter(codename="change_pickupsettings"))

    # when the new release migrates
    refresh_store_manager_group()

    # then the managers may do what the release says
    permissions = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert permissions == EXPECTED_PERMISSIONS
