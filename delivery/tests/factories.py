import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from delivery.models import DeliveryWindow, DeliveryZone, ZoneKind


class DeliveryZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryZone

    store = factory.SubFactory("stores.tests.factories.StoreFactory")
    name = factory.Sequence(lambda n: f"Zone {n}")
    kind = ZoneKind.POSTCODES
    postcodes = "101-108"
    fee = Decimal("1490")
    free_above = None
    minimum_order = Decimal("0")
    lead_time_minutes = 120
    days_ahead = 7


class DeliveryWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryWindow

    store = factory.SubFactory("stores.tests.factories.StoreFactory")
    weekday = 0
    starts = datetime.time(17)
    ends = datetime.time(19)
    cutoff = datetime.time(15)
    capacity = 10


def evening_windows(store, *, capacity=10, starts=datetime.time(17), ends=datetime.time(19), cutoff=datetime.time(15)):
    """The store's van out every evening of the week."""
    return [
        DeliveryWindowFactory(store=store, weekday=day, starts=starts, ends=ends, cutoff=cutoff, capacity=capacity)
        for day in range(7)
    ]


def next_monday(hour: int, minute: int = 0) -> datetime.datetime:
    """The coming Monday (a week on, if today is one) at hour:minute UTC, which is Reykjavík time:
    near today, so the delivery directory's closed dates (read around today) reach it."""
    today = timezone.now().astimezone(datetime.UTC).date()
    monday = today + datetime.timedelta(days=(7 - today.weekday()) or 7)
    return datetime.datetime.combine(monday, datetime.time(hour, minute), tzinfo=datetime.UTC)


def place_delivery(*, store, products_and_quantities, starts_at, now, address=None, language="en"):
    """A delivery order as a checkout places it: the window booked, the stock reserved, the order
    and its delivery written, in one transaction (stock must be there). Returns the Delivery."""
    from django.db import transaction

    from delivery.services import DeliveryAddress, book_window, create_delivery
    from orders.models import FulfilmentMethod
    from orders.services import Contact, LineSpec, create_order
    from stores import services as stock

    address = address or DeliveryAddress(
        street="Bergstaðastræti 12", postcode="101", city="Reykjavík", country="IS", phone="+354 555 1234"
    )
    lines = [LineSpec(product=product, quantity=quantity) for product, quantity in products_and_quantities]
    with transaction.atomic():
        booking = book_window(
            store=store,
            address=address,
            starts_at=starts_at,
            order_value=sum(line.unit_price * line.quantity for line in lines),
            now=now,
        )
        stock.reserve_stock(store=store, quantities={line.product.pk: line.quantity for line in lines})
        placed = create_order(
            lines=lines,
            store=store,
            contact=Contact(name="Anna Jónsdóttir", email="anna@example.com", phone=address.phone),
            method=FulfilmentMethod.LOCAL_DELIVERY,
            language=language,
        )
        return create_delivery(fulfilment=placed.fulfilment, booking=booking, address=address)
