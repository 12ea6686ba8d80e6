"""The admin warns a store's staff of orders whose payment authorisation expires within 24 hours:
a list filter, a banner over the order list, a warning on the order's page; managers see their
own stores' orders only (issue 10)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from payment.models import Payment, PaymentStatus
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dummy(settings):
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


def paid_online(client, store, product, *, expires_in):
    """An order at `store` placed by an authorisation that expires `expires_in` from now."""
    order = place_order(store=store, products_and_quantities=[(product, 1)], payment="dummy")
    payment = Payment.objects.get(order=order)
    page = reverse("payment_page", kwargs={"token": payment.token})
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PREAUTH
    Payment.objects.filter(pk=payment.pk).update(authorisation_expires_at=timezone.now() + expires_in)
    return order


@pytest.fixture
def shop(client):
    """Laugavegur: one order expiring in 5 hours, one in 3 days; Oslo: one expiring in 2 hours."""
    laugavegur = StoreFactory(name="Laugavegur")
    oslo = StoreFactory(name="Grünerløkka", city="Oslo", country="NO", time_zone="Europe/Oslo")
    sweater = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    for store in (laugavegur, oslo):
        StockLevelFactory(store=store, product=sweater, on_hand=10)
    soon = paid_online(client, laugavegur, sweater, expires_in=datetime.timedelta(hours=5))
    later = paid_online(client, laugavegur, sweater, expires_in=datetime.timedelta(days=3))
    theirs = paid_online(client, oslo, sweater, expires_in=datetime.timedelta(hours=2))
    at_pickup = place_order(store=laugavegur, products_and_quantities=[(sweater, 1)])
    client.logout()
    return laugavegur, soon, later, theirs, at_pickup


def warnings_of(response):
    return [str(message) for message in get_messages(response.wsgi_request) if message.level_tag == "warning"]


def test_the_manager_sees_a_banner_and_filters_their_own_expiring_orders(client, shop):
    laugavegur, soon, later, theirs, at_pickup = shop
    client.force_login(StoreManagerFactory(stores=[laugavegur]))

    # the order list warns of one order (Oslo's is not theirs)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert warnings_of(response) == [
        "1 order paid online has a payment authorisation that expires within 24 hours: hand it over before "
        "then, or the shopper must pay again. Filter “Payment authorisation” lists it."
    ]

    # and the filter lists exactly it
    response = client.get(reverse("admin:orders_order_changelist"), {"authorisation": "expiring"})
    assert [order.number for order in response.context["cl"].result_list] == [soon.number]


def test_the_order_page_says_when_its_authorisation_expires(client, shop):
    laugavegur, soon, later, theirs, at_pickup = shop
    client.force_login(StoreManagerFactory(stores=[laugavegur]))

    expiring = client.get(reverse("admin:orders_order_change", args=[soon.pk]))
    not_yet = client.get(reverse("admin:orders_order_change", args=[later.pk]))

    assert len(warnings_of(expiring)) == 1
    assert "The payment authorisation of this order expires at" in warnings_of(expiring)[0]
    assert warnings_of(not_yet) == []


def test_another_stores_order_gives_the_manager_no_warning(client, shop):
    laugavegur, soon, later, theirs, at_pickup = shop
    client.force_login(StoreManagerFactory(stores=[laugavegur]))

    response = client.get(reverse("admin:orders_order_change", args=[theirs.pk]))

    # Django's own "doesn't exist" (it is not theirs to know of), and nothing about its payment
    assert response.status_code in (302, 404)
    assert not any("authorisation" in warning for warning in warnings_of(response))


def test_a_superuser_is_warned_of_every_store(client, shop, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("admin:orders_order_changelist"), {"authorisation": "expiring"})

    assert warnings_of(response)[0].startswith("2 orders paid online have payment authorisations")
    assert len(response.context["cl"].result_list) == 2


def test_handed_over_or_cancelled_orders_are_not_warned_of(client, shop, admin_user):
    laugavegur, soon, later, theirs, at_pickup = shop
    Payment.objects.filter(order__in=[soon, theirs]).update(status=PaymentStatus.CONFIRMED)
    client.force_login(admin_user)

    response = client.get(reverse("admin:orders_order_changelist"))

    assert warnings_of(response) == []
