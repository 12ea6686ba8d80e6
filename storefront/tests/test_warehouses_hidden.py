"""A warehouse holds stock and ships, but shoppers never see it as a store (issue 11): not in the
store list or the locator, not in a product's availability, not a checkout pickup store, not a
store page, not a store to choose, not a place to bring returns; and it cannot offer pickup."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from checkout.forms import CheckoutForm
from orders.selectors import best_pickup_availability, stores_able_to_supply
from stores.models import Store
from stores.selectors import MY_STORE_SESSION_KEY, nearest_stores, product_availability, store_listings
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def warehouse():
    # Right by the store, with more stock: it would come first anywhere it were not left out.
    return StoreFactory(
        name="Vöruhús Hafnarfjörður",
        slug="voruhus",
        kind="warehouse",
        offers_pickup=False,
        accepts_returns=False,
    )


@pytest.fixture
def sweater(laugavegur, warehouse):
    product = ProductFactory(name="Hekla lopapeysa", price=Decimal("24990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=1)
    StockLevelFactory(store=warehouse, product=product, on_hand=500)
    return product


def test_the_store_list_and_the_locator_leave_the_warehouse_out(client, laugavegur, warehouse):
    page = client.get(reverse("stores:store_list")).content.decode()
    assert "Laugavegur" in page and "Vöruhús" not in page

    assert [listing.store for listing in store_listings()] == [laugavegur]
    nearest = nearest_stores(latitude=laugavegur.latitude, longitude=laugavegur.longitude, limit=5)
    assert [item.store for item in nearest] == [laugavegur]


def test_a_products_availability_names_stores_only(client, laugavegur, warehouse, sweater):
    assert [row.store for row in product_availability(product=sweater)] == [laugavegur]
    assert best_pickup_availability(sweater.pk).store == laugavegur

    page = client.get(sweater.get_absolute_url()).content.decode()
    assert "Vöruhús" not in page


def test_checkout_never_offers_the_warehouse_as_a_pickup_store(laugavegur, warehouse, sweater):
    # the stores able to supply 2 sweaters: only the warehouse has them, and it is not one
    assert list(stores_able_to_supply({sweater.pk: 1})) == [laugavegur]
    assert list(stores_able_to_supply({sweater.pk: 2})) == []

    # a form posted by hand with the warehouse is refused at the field
    form = CheckoutForm({"name": "Anna", "email": "anna@example.com", "phone": "+354 555 1234", "store": warehouse.pk})
    assert not form.is_valid()
    assert form.errors["store"] == ["Choose one of the stores listed."]


def test_the_warehouse_has_no_store_page_and_cannot_be_my_store(client, laugavegur, warehouse):
    assert client.get(reverse("stores:store_detail", args=[warehouse.slug])).status_code == 404

    chosen = client.post(reverse("stores:choose_store"), {"store_id": warehouse.pk})
    assert chosen.status_code == 400
    assert MY_STORE_SESSION_KEY not in client.session

    # a session that names it (chosen before it became a warehouse) has no store
    session = client.session
    session[MY_STORE_SESSION_KEY] = warehouse.pk
    session.save()
    page = client.get(reverse("stores:store_list")).content.decode()
    assert "Vöruhús" not in page


def test_returns_are_not_taken_at_a_warehouse(laugavegur, warehouse):
    assert list(Store.objects.accepting_returns()) == [laugavegur]


@pytest.mark.parametrize("field", ["offers_pickup", "accepts_returns"])
def test_a_warehouse_offering_pickup_or_returns_is_refused_with_a_reason(warehouse, field):
    setattr(warehouse, field, True)

    with pytest.raises(ValidationError) as refused:
        warehouse.full_clean()

    assert "A warehouse cannot offer pickup or take returns: shoppers never come to it." in str(refused.value)
