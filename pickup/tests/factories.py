import factory

from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.models import FulfilmentMethod
from orders.services import Contact
from pickup.models import PickupSettings


class PickupSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PickupSettings
        django_get_or_create = ("store",)

    store = factory.SubFactory("stores.tests.factories.StoreFactory")
    offers_curbside = True
    curbside_instructions = "Park in the green bays by the side entrance."
    curbside_bays = 4


def place_curbside_order(*, store, products_and_quantities, vehicle="Red Toyota Yaris, AB-123", **extra):
    """A curbside order placed through the checkout service (the store must offer curbside)."""
    return place_pickup_order(
        checkout=ConfirmedCheckout.at_current_prices(
            quantities={product.pk: quantity for product, quantity in products_and_quantities},
            store=store,
            contact=Contact(
                name="Anna Jónsdóttir", email=extra.pop("email", "anna@example.com"), phone="+354 555 1234"
            ),
            fulfilment=FulfilmentMethod.CURBSIDE,
            vehicle_description=vehicle,
            **extra,
        )
    )
