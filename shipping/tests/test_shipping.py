"""Ship to home from a warehouse (issue 11): the fee by postcode area and weight, the warehouse with
the stock (one query), placing a shipped order, and staff entering the carrier's tracking number,
after which the shopper gets one "shipped" e-mail with it."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import StoreManagerFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from checkout.handover import ship
from checkout.services import CheckoutChanged, ConfirmedCheckout, ShippingChoice, place_shipping_order
from o2o_site.money import format_money
from orders.integrity import check_integrity
from orders.models import FulfilmentMethod, Notification, NotificationKind, OrderStatus
from orders.services import Contact, IllegalTransition
from payment.models import PaymentStatus
from payment.tests.factories import DUMMY, authorised_payment
from shipping.models import Shipment, ShippingRate
from shipping.selectors import ShippingProblem, shipping_options
from shipping.services import ShippingAddress, ShippingRefused, mark_shipped
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

ADDRESS = ShippingAddress(
    name="Anna Jónsdóttir", address="Hafnarstræti 5", postcode="600", city="Akureyri", country="IS"
)


@pytest.fixture(autouse=True)
def payment_variants(settings):
    settings.PAYMENT_VARIANTS = {"dummy": DUMMY}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


def warehouse(name="Vöruhús Hafnarfjörður", **fields):
    return StoreFactory(name=name, kind="warehouse", offers_pickup=False, accepts_returns=False, **fields)


@pytest.fixture
def hafnarfjordur():
    return warehouse()


@pytest.fixture
def sweater(hafnarfjordur):
    product = ProductFactory(name="Hekla lopapeysa", sku="HEKLA-1", price=Decimal("24990"), weight_grams=900)
    StockLevelFactory(store=hafnarfjordur, product=product, on_hand=5)
    return product


@pytest.fixture
def mittens(hafnarfjordur):
    product = ProductFactory(name="Lopi mittens", sku="LOPI-1", price=Decimal("3990"), weight_grams=150)
    StockLevelFactory(store=hafnarfjordur, product=product, on_hand=5)
    return product


@pytest.fixture
def fee_table():
    """Iceland: the capital area (100–299) and the rest (300–999), each up to 2 kg and up to 10 kg."""
    return [
        ShippingRate.objects.create(
            country="IS", postcode_from=100, postcode_to=299, max_weight_grams=2000, fee=Decimal("990")
        ),
        ShippingRate.objects.create(
            country="IS", postcode_from=100, postcode_to=299, max_weight_grams=10000, fee=Decimal("1990")
        ),
        ShippingRate.objects.create(
            country="IS", postcode_from=300, postcode_to=999, max_weight_grams=2000, fee=Decimal("1490")
        ),
        ShippingRate.objects.create(
            country="IS", postcode_from=300, postcode_to=999, max_weight_grams=10000, fee=Decimal("2490")
        ),
    ]


def loaded(*products):
    return {p.pk: p for p in Product.objects.select_related("parent").filter(pk__in=[p.pk for p in products])}


# --- the fee and the warehouse -------------------------------------------------------------------------


def test_the_fee_follows_the_postcode_area_and_the_weight(hafnarfjordur, sweater, mittens, fee_table):
    products = loaded(sweater, mittens)

    light = shipping_options(postcode="600", country="IS", lines=[(products[mittens.pk], 2)])
    heavy = shipping_options(postcode="600", country="IS", lines=[(products[sweater.pk], 3)])
    capital = shipping_options(postcode=" 101 ", country="IS", lines=[(products[mittens.pk], 2)])

    assert (light.warehouse, light.fee, light.weight_grams) == (hafnarfjordur, Decimal("1490"), 300)
    assert (heavy.fee, heavy.weight_grams) == (Decimal("2490"), 2700)
    assert (capital.fee, capital.postcode) == (Decimal("990"), "101")


@pytest.mark.parametrize("lines_in_cart", [1, 12])
def test_the_lookup_is_one_query_whatever_the_rows(hafnarfjordur, fee_table, lines_in_cart, django_assert_num_queries):
    # given several warehouses and stores, many fee rows, and a cart of one line or twelve
    others = [warehouse(name=f"Vöruhús {n}") for n in range(3)]
    products = ProductFactory.create_batch(lines_in_cart, weight_grams=100)
    for product in products:
        for place in (hafnarfjordur, *others, StoreFactory()):
            StockLevelFactory(store=place, product=product, on_hand=10)
    for start in range(300, 1000, 10):
        ShippingRate.objects.create(
            country="IS", postcode_from=start, postcode_to=start + 9, max_weight_grams=50000, fee=Decimal("3000")
        )
    cart = [(product, 1) for product in loaded(*products).values()]

    # when the options are looked up
    with django_assert_num_queries(1):
        quote = shipping_options(postcode="600", country="IS", lines=cart)

    # then the cheapest fee covering it, from a warehouse that has it all
    assert quote.fee == Decimal("1490")
    assert quote.warehouse.is_warehouse


@pytest.mark.parametrize(
    ("postcode", "country", "message"),
    [
        ("", "IS", "Enter the postcode of the address."),
        ("1010", "IS", "“1010” is not a postcode in Iceland: they have 3 digits."),
        ("0150", "IS", "“0150” is not a postcode in Iceland: they have 3 digits."),
        ("101", "NO", "“101” is not a postcode in Norway: they have 4 digits."),
        ("AB1", "IS", "“AB1” is not a postcode in Iceland: they have 3 digits."),
        ("101", "SE", "We ship to Iceland and Norway only."),
    ],
)
def test_a_postcode_that_is_not_one_is_named(mittens, fee_table, postcode, country, message):
    with pytest.raises(ShippingProblem) as refused:
        shipping_options(postcode=postcode, country=country, lines=[(loaded(mittens)[mittens.pk], 1)])
    assert str(refused.value) == message


def test_no_fee_row_no_weight_or_no_warehouse_with_it_all_is_said_plainly(hafnarfjordur, sweater, mittens, fee_table):
    products = loaded(sweater, mittens)
    # too heavy for the table (6 × 900 g + … is under 10 kg; 12 sweaters are not)
    StockLevel.objects.filter(product=sweater).update(on_hand=20)
    with pytest.raises(ShippingProblem, match="We do not ship a parcel of 10.8 kg to 600."):
        shipping_options(postcode="600", country="IS", lines=[(products[sweater.pk], 12)])
    # a product whose weight is not known
    unweighed = ProductFactory(name="Gjafabréf", weight_grams=None)
    StockLevelFactory(store=hafnarfjordur, product=unweighed, on_hand=5)
    with pytest.raises(ShippingProblem, match="Gjafabréf cannot be shipped"):
        shipping_options(postcode="600", country="IS", lines=[(loaded(unweighed)[unweighed.pk], 1)])
    # more than any warehouse holds; stock in a store does not count
    StockLevelFactory(store=StoreFactory(), product=mittens, on_hand=50)
    with pytest.raises(ShippingProblem, match="None of our warehouses has everything"):
        shipping_options(postcode="600", country="IS", lines=[(products[mittens.pk], 6)])
    # a postcode of a country no fee row covers
    with pytest.raises(ShippingProblem, match="None of our warehouses has everything"):
        shipping_options(postcode="0150", country="NO", lines=[(products[mittens.pk], 1)])


def test_a_variant_weighs_what_its_product_does_unless_it_has_its_own(hafnarfjordur, fee_table):
    style = ProductFactory(weight_grams=700)
    small = ProductFactory(parent=style, weight_grams=None)
    StockLevelFactory(store=hafnarfjordur, product=small, on_hand=5)

    quote = shipping_options(postcode="600", country="IS", lines=[(loaded(small)[small.pk], 2)])

    assert quote.weight_grams == 1400


# --- placing a shipped order, then shipping it ----------------------------------------------------------


def place(products_and_units, *, fee_shown, language="en", address=ADDRESS):
    return place_shipping_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: units for product, units in products_and_units},
            store=StockLevel.objects.filter(product=products_and_units[0][0]).first().store,
            contact=Contact(name="Anna Jónsdóttir", email="anna@example.com", phone="+354 555 1234"),
            payment="dummy",
            language=language,
        ),
        shipping=ShippingChoice(address=address, fee_shown=fee_shown),
    )


def test_a_shipped_order_reserves_at_the_warehouse_and_charges_the_fee(hafnarfjordur, sweater, mittens, fee_table):
    order = place([(sweater, 1), (mittens, 2)], fee_shown=Decimal("1490"))

    assert order.store == hafnarfjordur
    assert order.total == Decimal("24990") + Decimal("7980") + Decimal("1490")
    assert order.fulfilments.get().method == FulfilmentMethod.SHIPPING
    shipment = Shipment.objects.get(fulfilment__order=order)
    assert (shipment.postcode, shipment.weight_grams, shipment.fee) == ("600", 1200, Decimal("1490"))
    assert StockLevel.objects.get(store=hafnarfjordur, product=sweater).reserved == 1
    assert check_integrity().ok


def test_a_fee_changed_since_the_page_was_shown_is_named_and_nothing_is_placed(sweater, fee_table):
    with pytest.raises(CheckoutChanged) as changed:
        place([(sweater, 1)], fee_shown=Decimal("990"))

    assert "The shipping fee is now" in str(changed.value.changes[0].message)
    assert not Shipment.objects.exists()
    assert StockLevel.objects.get(product=sweater).reserved == 0


@pytest.fixture
def shipped_order(sweater, mittens, fee_table):
    order = place([(sweater, 1), (mittens, 2)], fee_shown=Decimal("1490"), language="is")
    order.payments.all().delete()
    payment = authorised_payment(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    return order, payment


def test_staff_enter_the_tracking_number_and_the_shopper_gets_it_once(
    shipped_order, hafnarfjordur, sweater, mailoutbox, django_capture_on_commit_callbacks
):
    order, payment = shipped_order
    shipment = Shipment.objects.get(fulfilment__order=order)
    staff = StoreManagerFactory(stores=[hafnarfjordur])

    with django_capture_on_commit_callbacks(execute=True):
        ship(shipment=shipment, carrier="Pósturinn", tracking_number=" rr 123456785 is ", by=staff)

    order.refresh_from_db()
    shipment.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_by) == ("Pósturinn", "RR123456785IS", staff)
    assert StockLevel.objects.get(store=hafnarfjordur, product=sweater).on_hand == 4
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, order.total)
    shipped = [m for m in mailoutbox if "RR123456785IS" in m.body]
    assert len(shipped) == 1
    assert shipped[0].subject == f"Pöntunin þín {order.number} er á leiðinni"
    assert "Pósturinn" in shipped[0].body
    assert Notification.objects.filter(order=order, kind=NotificationKind.SHIPPED).count() == 1
    assert check_integrity().ok

    # shipping it again is refused: one parcel, one e-mail
    with pytest.raises(IllegalTransition):
        mark_shipped(shipment=shipment, carrier="Pósturinn", tracking_number="RR999", by=staff)
    assert Notification.objects.filter(order=order, kind=NotificationKind.SHIPPED).count() == 1


@pytest.mark.parametrize(
    ("carrier", "number", "message"),
    [
        ("Pósturinn", "", "Enter the carrier's tracking number."),
        ("Pósturinn", "RR!23", "“RR!23” is not a tracking number: 4 to 40 letters, digits and dashes."),
        ("Pósturinn", "RR1", "“RR1” is not a tracking number: 4 to 40 letters, digits and dashes."),
        ("  ", "RR123456785IS", "Enter the carrier, e.g. Pósturinn or Posten."),
    ],
)
def test_a_bad_tracking_number_or_carrier_ships_nothing(shipped_order, carrier, number, message):
    order, _payment = shipped_order
    shipment = Shipment.objects.get(fulfilment__order=order)

    with pytest.raises(ShippingRefused) as refused:
        mark_shipped(shipment=shipment, carrier=carrier, tracking_number=number, by=None)

    assert str(refused.value) == message
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert not Notification.objects.filter(order=order, kind=NotificationKind.SHIPPED).exists()


# --- the admin: scoped to the warehouse's managers ------------------------------------------------------


def test_the_warehouse_manager_ships_from_the_admin_and_a_bad_number_keeps_what_was_typed(shipped_order, hafnarfjordur):
    order, _payment = shipped_order
    shipment = Shipment.objects.get(fulfilment__order=order)
    client = Client()
    client.force_login(StoreManagerFactory(stores=[hafnarfjordur]))
    url = reverse("admin:shipping_shipment_change", args=[shipment.pk])

    bad = client.post(url, {"carrier": "Pósturinn", "tracking_number": "RR!23"})
    assert bad.status_code == 200
    page = bad.content.decode()
    assert "is not a tracking number" in page and 'value="RR!23"' in page
    assert Shipment.objects.get(pk=shipment.pk).shipped_at is None

    done = client.post(url, {"carrier": "Pósturinn", "tracking_number": "RR123456785IS"}, follow=True)
    assert f"Order {order.number} is shipped; the shopper will get an e-mail with the tracking number." in [
        str(m) for m in get_messages(done.wsgi_request)
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_the_shipment_list_and_page_show_the_fee_as_money(shipped_order, hafnarfjordur):
    # (a fresh-eyes tester found the list showing "990.00" where the shop writes "ISK 990")
    order, _payment = shipped_order
    shipment = Shipment.objects.get(fulfilment__order=order)
    client = Client()
    client.force_login(StoreManagerFactory(stores=[hafnarfjordur]))

    listed = client.get(reverse("admin:shipping_shipment_changelist")).content.decode()
    shown = client.get(reverse("admin:shipping_shipment_change", args=[shipment.pk])).content.decode()

    for page in (listed, shown):
        assert format_money(Decimal("1490")) in page
        assert "1490.00" not in page and "1,490.00" not in page


def test_another_stores_manager_cannot_see_or_ship_the_parcel(shipped_order):
    order, _payment = shipped_order
    shipment = Shipment.objects.get(fulfilment__order=order)
    client = Client()
    client.force_login(StoreManagerFactory(stores=[StoreFactory()]))

    listing = client.get(reverse("admin:shipping_shipment_changelist"))
    posted = client.post(
        reverse("admin:shipping_shipment_change", args=[shipment.pk]),
        {"carrier": "Pósturinn", "tracking_number": "RR123456785IS"},
    )

    assert order.number not in listing.content.decode()
    assert posted.status_code in (302, 403, 404)
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


# --- what the shopper and the manager see of a shipped order ---------------------------------------------


def test_the_shoppers_page_shows_the_parcel_and_never_the_warehouse(
    shipped_order, hafnarfjordur, mailoutbox, django_capture_on_commit_callbacks
):
    order, _payment = shipped_order
    page = Client().get(order.get_absolute_url()).content.decode()
    assert 'data-testid="shipment-plan"' in page and "Hafnarstræti 5" in page
    assert hafnarfjordur.name not in page and hafnarfjordur.address not in page
    assert 'data-testid="pickup-code"' not in page

    shipment = Shipment.objects.get(fulfilment__order=order)
    with django_capture_on_commit_callbacks(execute=True):
        ship(shipment=shipment, carrier="Pósturinn", tracking_number="RR123456785IS", by=None)

    page = Client().get(order.get_absolute_url()).content.decode()
    assert "RR123456785IS" in page and "Pósturinn" in page


def test_the_order_received_email_of_a_shipped_order_names_the_address(
    sweater, fee_table, mailoutbox, django_capture_on_commit_callbacks
):
    order = place([(sweater, 1)], fee_shown=Decimal("1490"))
    order.payments.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        authorised_payment(order)

    received = [m for m in mailoutbox if m.subject == f"We have received your order {order.number}"]
    assert len(received) == 1
    assert "Hafnarstræti 5" in received[0].body and "tracking number" in received[0].body
    assert "pickup code" not in received[0].body.lower()


def test_the_admin_order_page_of_a_shipped_order_offers_no_pickup_steps(shipped_order, hafnarfjordur):
    order, _payment = shipped_order
    client = Client()
    client.force_login(StoreManagerFactory(stores=[hafnarfjordur]))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert 'data-testid="mark-ready-form"' not in page
    assert 'data-testid="mark-lines-ready-form"' not in page
    assert 'data-testid="cancel-form"' in page


def test_a_shipped_order_paid_online_says_the_amount_is_taken_when_it_is_shipped(shipped_order):
    # found by a fresh-eyes test: the page and the timeline said "taken when you pick up"
    order, _payment = shipped_order
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(order.get_absolute_url()).content.decode()
    assert "It is taken when the order is shipped." in page
    assert "when you pick up" not in page
    notes = list(order.events.values_list("note", flat=True))
    assert any(note.endswith("tekið þegar pöntunin er send.") for note in notes), notes


def test_a_shipping_fee_the_currency_cannot_pay_is_refused_in_the_admin(admin_client):
    # given head office adds a row to the fee table with half a króna
    form = {"country": "IS", "postcode_from": "100", "postcode_to": "199", "max_weight_grams": "2000"}
    response = admin_client.post(reverse("admin:shipping_shippingrate_add"), form | {"fee": "1490.5"})
    # then the fee says why, in the words every amount field uses, and no row is made
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["fee"] == [
        "Amounts in ISK have no decimals: enter a whole number."
    ]
    assert not ShippingRate.objects.filter(postcode_from=100, postcode_to=199).exists()
    # and a whole amount is kept as typed
    assert admin_client.post(reverse("admin:shipping_shippingrate_add"), form | {"fee": "1490"}).status_code == 302
    assert ShippingRate.objects.get(postcode_from=100, postcode_to=199).fee == Decimal("1490")
