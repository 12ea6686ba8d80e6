"""payment.services._lock reads the payment and its order as select_related("order") reads them."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from payment import services
from payment.models import Payment
from payment.services import capture_payment
from payment.tests.factories import authorised_payment

pytestmark = pytest.mark.django_db


def values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("state", ["new", "authorised", "partly captured"])
def test_the_locked_payment_and_its_order_are_as_the_orm_reads_them(order, state):
    # given a payment new, authorised (an expiry, a fraud status), or partly captured (amounts)
    if state == "new":
        payment = services.create_payment(order=order, variant="dummy")
    else:
        payment = authorised_payment(order)
        if state == "partly captured":
            capture_payment(payment=payment, amount=payment.total / 2, by=services.Actor.shop())

    # when it is locked
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = services._lock(payment)
        read = Payment.objects.select_related("order").get(pk=payment.pk)

    # then every field of it and of its order is what the ORM reads, in the same types, with the
    # order's row locked before the payment's (on PostgreSQL)
    assert values(locked) == values(read)
    assert {name: type(value) for name, value in values(locked).items()} == {
        name: type(value) for name, value in values(read).items()
    }
    assert values(locked.order) == values(read.order)
    assert {name: type(value) for name, value in values(locked.order).items()} == {
        name: type(value) for name, value in values(read.order).items()
    }
    if connection.vendor == "postgresql":
        order_lock, payment_lock = (query["sql"] for query in captured.captured_queries[:2])
        assert order_lock.startswith('SELECT id FROM "orders_order"') and order_lock.endswith("FOR UPDATE")
        assert 'FROM "payment_payment" p' in payment_lock and payment_lock.endswith("FOR UPDATE OF p")


def test_a_payment_that_is_gone_is_not_found(order):
    payment = services.create_payment(order=order, variant="dummy")
    Payment.objects.filter(pk=payment.pk).delete()
    with pytest.raises(Payment.DoesNotExist), transaction.atomic():
        services._lock(payment)
