"""The demo shop delivers: zones and evening windows at a couple of stores in each city."""

import pytest

from delivery.models import DeliveryWindow, DeliveryZone
from delivery.selectors import PostcodeProblem, delivery_options, forget_directory
from demo.services import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_delivers_in_reykjavik_and_seeding_again_adds_nothing():
    seed_demo(country="IS")
    forget_directory()

    reykjavik = {option.store.slug for option in delivery_options(postcode="107", country="IS").options}
    assert reykjavik == {"laugavegur", "kringlan"}
    with pytest.raises(PostcodeProblem, match="No store delivers to 0557 Oslo"):  # no Oslo stores here
        delivery_options(postcode="0557", country="NO")
    assert DeliveryWindow.objects.filter(store__slug="laugavegur", weekday=0, starts="17:00").exists()

    zones, windows = DeliveryZone.objects.count(), DeliveryWindow.objects.count()
    seed_demo(country="IS")
    assert (DeliveryZone.objects.count(), DeliveryWindow.objects.count()) == (zones, windows)


def test_the_norwegian_demo_delivers_in_oslo(settings):
    settings.SHOP_CURRENCY = "NOK"
    seed_demo(country="NO")
    forget_directory()

    oslo = {option.store.slug for option in delivery_options(postcode="0557", country="NO").options}
    assert oslo == {"grunerlokka"}
    with pytest.raises(PostcodeProblem, match="No store delivers to 107"):
        delivery_options(postcode="107", country="IS")
