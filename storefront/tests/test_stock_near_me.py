"""Stock near me: a product sold out at my store offers the nearest stores of my country that
have it, each one step from the cart ("Pick up at Smáralind")."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import services
from catalog.models import ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory, sizes
from checkout.cart import SESSION_KEY
from orders.selectors import stores_able_to_supply
from stores.models import SpecialOpeningHours
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

# The product page with my store sold out, whatever the number of stores: as PRODUCT_PAGE_QUERIES
# (catalog/tests/test_pages.py): the nearest stores that have it come from the same stock rows.
PRODUCT_PAGE_QUERIES = 7
# Monday 5 January 2026, 12:00 UTC: noon in Reykjavík, 13:00 in Oslo.
MONDAY_NOON_UTC = datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)


def remember_store(client, store):
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()


def cart_in(client):
    return {int(pk): quantity for pk, quantity in client.session.get(SESSION_KEY, {}).items()}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def pick_up_at(client, product, store, quantity=1):
    return client.post(
        reverse("checkout:cart_add"),
        {"product_id": product.pk, "quantity": quantity, "pickup_store": store.pk, "next": reverse("checkout:cart")},
    )


@pytest.fixture
def reykjavik():
    """My store in central Reykjavík, sold out; stores around it and one in Oslo."""
    mine = StoreFactory(
        name="Laugavegur", slug="laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290")
    )
    stores = {
        "mine": mine,
        # 2.4 km, sold out too
        "kringlan": StoreFactory(
            name="Kringlan", slug="kringlan", latitude=Decimal("64.1300"), longitude=Decimal("-21.8950")
        ),
        # 5.6 km, has it, but hands no orders over
        "depot": StoreFactory(
            name="Depot", slug="depot", offers_pickup=False, latitude=Decimal("64.1200"), longitude=Decimal("-21.8300")
        ),
        # 5.4 km, has it, closed today (a special date)
        "smaralind": StoreFactory(
            name="Smáralind", slug="smaralind", latitude=Decimal("64.1010"), longitude=Decimal("-21.8840")
        ),
        # 8.5 km, has it
        "hafnarfjordur": StoreFactory(
            name="Fjörður", slug="fjordur", latitude=Decimal("64.0700"), longitude=Decimal("-21.9560")
        ),
        # 248 km, has it
        "akureyri": StoreFactory(
            name="Glerártorg", slug="glerartorg", latitude=Decimal("65.6885"), longitude=Decimal("-18.1262")
        ),
        # 1,746 km, has plenty
        "oslo": StoreFactory(
            name="Karl Johan",
            slug="karl-johan",
            country="NO",
            city="Oslo",
            time_zone="Europe/Oslo",
            latitude=Decimal("59.9127"),
            longitude=Decimal("10.7461"),
        ),
    }
    SpecialOpeningHours.objects.create(store=stores["smaralind"], date=MONDAY_NOON_UTC.date(), reason="Stock-taking")
    return stores


@pytest.fixture
def sweater(reykjavik):
    product = ProductFactory(name="Lopapeysa", price=Decimal("24990"))
    units = {"mine": 0, "kringlan": 0, "depot": 5, "smaralind": 3, "hafnarfjordur": 1, "akureyri": 7, "oslo": 40}
    for name, on_hand in units.items():
        StockLevelFactory(store=reykjavik[name], product=product, on_hand=on_hand)
    return product


@pytest.fixture
def monday_noon(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY_NOON_UTC)


def test_sold_out_at_my_store_the_nearest_stores_of_my_country_that_have_it_are_offered(
    client, reykjavik, sweater, monday_noon
):
    # given
    remember_store(client, reykjavik["mine"])

    # when
    response = client.get(sweater.get_absolute_url())

    # then: the three nearest that have it and hand orders over, with distance, units and "open now"
    html = response.content.decode()
    offered = response.context["pickup_elsewhere"]
    assert [row.store.name for row in offered] == ["Smáralind", "Fjörður", "Glerártorg"]
    assert [row.available for row in offered] == [3, 1, 7]
    assert [row.is_open for row in offered] == [False, True, True]  # Smáralind is stock-taking today
    assert [round(row.distance_km, 1) for row in offered] == [5.4, 8.5, 248.0]
    assert 'data-testid="pickup-elsewhere"' in html
    assert "Pick up at Smáralind" in html
    assert "Pick up at Fjörður" in html
    assert "Karl Johan" not in html  # 1,746 km away, in another country
    assert "Pick up at Depot" not in html
    assert "Pick up at Kringlan" not in html
    # and "Add to cart" for my store is not active
    assert 'data-testid="add-to-cart" disabled' in html
    assert "Laugavegur has none to sell right now." in html
    # and the table of other stores below does not list the offered stores a second time

    listed = re.findall(r'data-testid="store-availability-row" data-store="([^"]+)"', html)
    assert listed == ["kringlan", "depot"]
    assert html.count('data-store="smaralind"') == 1


def test_when_every_other_store_is_offered_above_the_page_does_not_say_there_are_none(client):
    # given: sold out at my store; the two other stores of my country both have it
    mine = StoreFactory(name="Laugavegur", latitude=Decimal("64.1458"), longitude=Decimal("-21.9290"))
    kringlan = StoreFactory(name="Kringlan", latitude=Decimal("64.1300"), longitude=Decimal("-21.8950"))
    smaralind = StoreFactory(
        name="Smáralind", slug="smaralind", latitude=Decimal("64.1010"), longitude=Decimal("-21.8840")
    )
    product = ProductFactory(name="Arctic thyme tea")
    for store, on_hand in ((mine, 0), (kringlan, 22), (smaralind, 26)):
        StockLevelFactory(store=store, product=product, on_hand=on_hand)
    remember_store(client, mine)

    # when
    html = client.get(product.get_absolute_url()).content.decode()

    # then: both are offered for pickup, and the page does not contradict itself below
    assert "Pick up at Smáralind" in html
    assert "Pick up at Kringlan" in html
    assert "We have no other stores yet." not in html
    assert "In other stores near you" not in html
    assert html.count('data-store="smaralind"') == 1


def test_in_stock_at_my_store_no_other_store_is_pushed(client, reykjavik, sweater):
    # given
    StockLevelFactory(store=reykjavik["kringlan"], product=ProductFactory(), on_hand=1)
    remember_store(client, reykjavik["akureyri"])

    # when
    response = client.get(sweater.get_absolute_url())

    # then
    html = response.content.decode()
    assert response.context["pickup_elsewhere"] is None
    assert 'data-testid="pickup-elsewhere"' not in html
    assert 'data-testid="add-to-cart" disabled' not in html


def test_sold_out_everywhere_near_says_so(client, reykjavik):
    # given: only Oslo has it
    product = ProductFactory()
    StockLevelFactory(store=reykjavik["oslo"], product=product, on_hand=9)
    remember_store(client, reykjavik["mine"])

    # when
    html = client.get(product.get_absolute_url()).content.decode()

    # then
    assert "No store near you has it in stock right now." in html
    assert "Pick up at" not in html
    assert 'data-testid="add-to-cart" disabled' in html


def test_my_store_without_pickup_never_shows_add_to_cart_active(client, reykjavik, sweater):
    # given: the depot has five but hands no orders over
    remember_store(client, reykjavik["depot"])

    # when
    response = client.get(sweater.get_absolute_url())

    # then
    html = response.content.decode()
    assert 'data-testid="add-to-cart" disabled' in html
    assert "Depot does not hand over online orders." in html
    assert [row.store.name for row in response.context["pickup_elsewhere"]] == ["Smáralind", "Fjörður", "Glerártorg"]


def test_pick_up_at_another_store_adds_it_and_makes_that_store_mine_in_one_step(client, reykjavik, sweater):
    # given
    remember_store(client, reykjavik["mine"])

    # when
    response = pick_up_at(client, sweater, reykjavik["smaralind"])

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:cart")
    assert cart_in(client) == {sweater.pk: 1}
    assert client.session[MY_STORE_SESSION_KEY] == reykjavik["smaralind"].pk
    assert messages_of(response) == ["Added 1 × Lopapeysa to your cart, to pick up at Smáralind, now your store."]
    # and the product page now has it in stock at my store
    page = client.get(sweater.get_absolute_url()).content.decode()
    assert "3 in stock at Smáralind" in page
    assert 'data-testid="add-to-cart" disabled' not in page


def test_a_signed_in_shopper_has_the_pickup_store_remembered_on_the_account(client, reykjavik, sweater):
    # given
    shopper = UserFactory(preferred_store=reykjavik["mine"])
    client.force_login(shopper)

    # when
    pick_up_at(client, sweater, reykjavik["hafnarfjordur"])

    # then
    shopper.refresh_from_db()
    assert shopper.preferred_store == reykjavik["hafnarfjordur"]


@pytest.mark.parametrize(
    ("store_name", "quantity", "expected"),
    [
        ("kringlan", 1, "'Lopapeysa' is sold out at Kringlan."),
        ("hafnarfjordur", 2, "Only 1 of 'Lopapeysa' available at Fjörður; you asked for 2."),
        ("depot", 1, "That store no longer hands over orders. Choose another store."),
    ],
    ids=["sold out there", "too few there", "no pickup there"],
)
def test_pick_up_at_a_store_that_cannot_supply_it_changes_nothing(
    client, reykjavik, sweater, store_name, quantity, expected
):
    # given
    remember_store(client, reykjavik["mine"])

    # when
    response = pick_up_at(client, sweater, reykjavik[store_name], quantity=quantity)

    # then
    assert messages_of(response) == [expected]
    assert cart_in(client) == {}
    assert client.session[MY_STORE_SESSION_KEY] == reykjavik["mine"].pk


def test_a_closed_store_cannot_be_chosen_to_pick_up_at(client, reykjavik, sweater):
    # given
    gone = reykjavik["akureyri"]
    gone.is_active = False
    gone.save()

    # when
    response = pick_up_at(client, sweater, gone)

    # then
    assert messages_of(response) == ["That store no longer hands over orders. Choose another store."]
    assert cart_in(client) == {}
    assert MY_STORE_SESSION_KEY not in client.session


@pytest.mark.parametrize("store_count", [10, 200])
def test_the_sold_out_product_page_costs_the_same_queries_for_10_or_200_stores(
    client, django_assert_num_queries, store_count
):
    # given: my store sold out, every other store has two
    product = ProductFactory(category=CategoryFactory(parent=CategoryFactory()))
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"products/{product.pk}/{n}.jpg") for n in range(3)
    )
    mine, *others = StoreFactory.create_batch(store_count)
    StockLevelFactory(store=mine, product=product, on_hand=0)
    for store in others:
        StockLevelFactory(store=store, product=product, on_hand=2)
    remember_store(client, mine)

    # when / then
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        response = client.get(product.get_absolute_url())
    assert len(response.context["pickup_elsewhere"]) == 3
    assert response.content.decode().count('data-testid="pickup-elsewhere-add"') == 3


def test_the_checkout_offers_only_stores_of_my_stores_country(reykjavik, sweater):
    # when
    found = list(stores_able_to_supply({sweater.pk: 2}, near=reykjavik["mine"]))
    anywhere = list(stores_able_to_supply({sweater.pk: 2}))

    # then
    assert [store.name for store in found] == ["Smáralind", "Glerártorg"]
    assert reykjavik["oslo"] in anywhere


@pytest.mark.parametrize("country", ["IS", "NO"])
def test_a_store_is_in_a_country_the_shop_knows(country):
    # given
    store = StoreFactory.build(country=country)

    # when / then
    store.full_clean(exclude=["slug"])


@pytest.mark.parametrize("country", ["SE", "is", "XX", ""])
def test_a_store_in_a_country_the_shop_does_not_know_is_refused(country):
    # given
    store = StoreFactory.build(country=country)

    # when / then
    with pytest.raises(ValidationError) as refused:
        store.full_clean(exclude=["slug"])
    assert "country" in refused.value.message_dict


def test_a_size_sold_out_at_my_store_offers_the_stores_that_have_that_size(client, reykjavik):
    # given a sweater in S and M: my store has M only, Smáralind S only, Fjörður both
    styled = ProductFactory(name="Hekla peysa", slug="hekla-peysa", price=Decimal("19990"))
    small_value, medium_value = sizes("S", "M")
    small = services.create_variant(parent=styled, sku="HEKLA-S", values=[small_value])
    medium = services.create_variant(parent=styled, sku="HEKLA-M", values=[medium_value])
    StockLevelFactory(store=reykjavik["mine"], product=medium, on_hand=4)
    StockLevelFactory(store=reykjavik["smaralind"], product=small, on_hand=2)
    StockLevelFactory(store=reykjavik["hafnarfjordur"], product=small, on_hand=1)
    StockLevelFactory(store=reykjavik["hafnarfjordur"], product=medium, on_hand=1)
    remember_store(client, reykjavik["mine"])

    # when the shopper chooses S, then M
    small_page = client.get(styled.get_absolute_url(), {"variant": small.pk})
    medium_page = client.get(styled.get_absolute_url(), {"variant": medium.pk})

    # then S is offered where S is, and "Pick up at" adds S; M is in stock at my store
    assert [row.store.name for row in small_page.context["pickup_elsewhere"]] == ["Smáralind", "Fjörður"]
    assert f'name="product_id" value="{small.pk}"' in small_page.content.decode()
    assert medium_page.context["pickup_elsewhere"] is None
    response = pick_up_at(client, small, reykjavik["smaralind"])
    assert cart_in(client) == {small.pk: 1}
    assert response["Location"] == reverse("checkout:cart")
