"""A code batch's name in the admin: its label, or the day it was made (found by a fresh-eyes test:
a batch with a label made its coupon's admin page answer 500)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from coupons.services import generate_batch
from coupons.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("label", ["Test batch", ""])
def test_a_batch_is_named_and_its_coupon_page_opens(label):
    coupon = CouponFactory()
    batch = generate_batch(coupon=coupon, count=3, label=label)
    name = str(batch)
    assert name.startswith(str(coupon))
    if label:
        assert name.endswith("Test batch")
    else:
        assert name.rsplit(" – ", 1)[1]  # the day it was made

    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(admin)
    assert client.get(f"/admin/coupons/coupon/{coupon.pk}/change/").status_code == 200
    assert client.get(f"/admin/coupons/couponbatch/{batch.pk}/change/").status_code == 200
