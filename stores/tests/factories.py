import datetime
from decimal import Decimal

import factory

from stores.models import OpeningHours, PostcodeLocation, StockLevel, Store


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Laugavegur {n}")
    slug = factory.Sequence(lambda n: f"laugavegur-{n}")
    address = factory.Sequence(lambda n: f"Laugavegur {n}")
    postcode = "101"
    city = "Reykjavík"
    country = "IS"
    latitude = Decimal("64.145800")
    longitude = Decimal("-21.929000")
    time_zone = "Atlantic/Reykjavik"
    offers_pickup = True
    is_active = True

    @factory.post_generation
    def open_every_day(store, create, extracted, **kwargs):
        """Open 10:00–18:00 every day unless open_every_day=False is passed."""
        if create and extracted is not False:
            OpeningHours.objects.bulk_create(
                OpeningHours(store=store, weekday=day, opens=datetime.time(10), closes=datetime.time(18))
                for day in range(7)
            )


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory("catalog.tests.factories.ProductFactory")
    on_hand = 10
    reserved = 0


class PostcodeLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostcodeLocation

    country = "IS"
    postcode = "101"
    place_name = "Reykjavík"
    latitude = Decimal("64.147000")
    longitude = Decimal("-21.935000")
