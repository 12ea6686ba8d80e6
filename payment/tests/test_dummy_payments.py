"""Paying with django-payments' Dummy provider through the shop's payment page and callbacks, and
what staff do with a payment afterwards: every change is one event row, amounts are the order's."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.tests.factories import UserFactory
from payment.models import Payment, PaymentEvent, PaymentStatus, UnrecordedPaymentChange
from payment.services import (
    Actor,
    IllegalPaymentTransition,
    NothingToDo,
    capture_payment,
    create_payment,
    refund_payment,
    release_payment,
)

pytestmark = pytest.mark.django_db


def history(payment):
    return list(
        PaymentEvent.objects.filter(payment=payment).values_list("kind", "from_status", "to_status", "amount", "source")
    )


def pay_page(payment):
    return reverse("payment_page", kwargs={"token": payment.token})


def dummy_choice(status, gateway_response="3ds-disabled", **extra):
    return {"status": status, "fraud_status": "accept", "gateway_response": gateway_response, **extra}


@pytest.fixture
def payment(order):
    return create_payment(order=order, variant="dummy")


@pytest.fixture
def authorised(client, payment):
    client.get(pay_page(payment))
    client.post(pay_page(payment), dummy_choice("preauth"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PREAUTH
    return payment


def test_a_payment_is_for_exactly_the_orders_total_in_its_currency(order):
    payment = create_payment(order=order, variant="dummy")

    assert (payment.total, payment.currency) == (Decimal("32970"), "ISK") == (order.total, order.currency)
    assert payment.status == PaymentStatus.WAITING
    assert payment.events.count() == 0


def test_an_unknown_provider_is_refused_before_anything_is_written(order):
    with pytest.raises(ValueError):
        create_payment(order=order, variant="nope")
    assert not Payment.objects.exists()


def test_the_shopper_authorises_and_is_sent_back_to_the_order_page(client, order, payment):
    # given the payment page (the Dummy provider's form)
    page = client.get(pay_page(payment))
    assert page.status_code == 200
    assert "32.970" in page.content.decode() or "32,970" in page.content.decode()

    # when the shopper chooses "authorised"
    response = client.post(pay_page(payment), dummy_choice("preauth"))

    # then she lands on her order page, and the payment is authorised for the whole order, nothing captured
    assert response.status_code == 302
    assert response["Location"] == "http://testserver" + order.get_absolute_url()
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.PREAUTH, Decimal("0"))
    assert history(payment) == [
        ("status", "waiting", "input", Decimal("32970"), "shopper"),
        ("status", "input", "preauth", Decimal("32970"), "shopper"),
    ]


def test_a_declined_payment_is_recorded_and_the_shopper_sees_her_order(client, order, payment):
    client.get(pay_page(payment))
    response = client.post(pay_page(payment), dummy_choice("rejected"))

    assert response["Location"] == "http://testserver" + order.get_absolute_url()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert history(payment)[-1] == ("status", "input", "rejected", Decimal("32970"), "shopper")
    # a declined payment is over: its page sends the shopper back to the order
    assert client.get(pay_page(payment))["Location"] == "http://testserver" + order.get_absolute_url()


def test_a_3d_secure_failure_comes_back_through_the_callback_and_declines(client, payment):
    # given the shopper is sent to 3-D Secure, which fails
    client.get(pay_page(payment))
    to_3ds = client.post(pay_page(payment), dummy_choice("input", "3ds-redirect", verification_result="rejected"))
    assert to_3ds["Location"].startswith(reverse("process_payment", kwargs={"token": payment.token}))

    # when her browser comes back to the callback
    back = client.get(to_3ds["Location"])

    # then the payment is declined, once, and she is on her order page
    assert back.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert [row[1:3] for row in history(payment)] == [("waiting", "input"), ("input", "rejected")]


def test_a_gateway_failure_changes_nothing_and_the_shopper_may_try_again(client, payment):
    client.get(pay_page(payment))

    response = client.post(pay_page(payment), dummy_choice("preauth", "failure"))

    assert response.status_code == 200
    assert "nothing was charged" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.INPUT
    assert len(history(payment)) == 1
    # and trying again works
    client.post(pay_page(payment), dummy_choice("preauth"))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PREAUTH


def test_the_shoppers_return_twice_changes_the_payment_once(client, authorised):
    callback = reverse("process_payment", kwargs={"token": authorised.token})
    before = history(authorised)

    client.get(callback)
    client.get(callback)

    authorised.refresh_from_db()
    assert authorised.status == PaymentStatus.PREAUTH
    assert authorised.captured_amount == 0
    assert history(authorised) == before


def test_an_unknown_payment_is_404(client):
    response = client.get(reverse("process_payment", kwargs={"token": "7d5b2d63-2d63-4e0c-8d4c-000000000000"}))
    assert response.status_code == 404


def test_staff_capture_the_lines_handed_over_and_release_the_rest(authorised):
    clerk = UserFactory(username="clerk")

    # when staff capture the sweater only, then release the rest
    capture_payment(payment=authorised, amount=Decimal("24990"), by=Actor.staff(clerk))
    release_payment(payment=authorised, by=Actor.staff(clerk))

    # then the payment is captured for the sweater, the mittens' part let go
    authorised.refresh_from_db()
    assert authorised.status == PaymentStatus.CONFIRMED
    assert (authorised.captured_amount, authorised.released_amount) == (Decimal("24990"), Decimal("7980"))
    assert history(authorised)[-2:] == [
        ("capture", "preauth", "confirmed", Decimal("24990"), "staff"),
        ("release", "confirmed", "confirmed", Decimal("7980"), "staff"),
    ]
    assert PaymentEvent.objects.filter(kind="capture").get().actor == clerk
    # nothing is left to capture
    with pytest.raises(NothingToDo):
        capture_payment(payment=authorised, amount=Decimal("1"), by=Actor.staff(clerk))


def test_releasing_a_whole_authorisation_cancels_the_payment(authorised):
    release_payment(payment=authorised, by=Actor.shop("order cancelled"))

    authorised.refresh_from_db()
    assert (authorised.status, authorised.released_amount) == (PaymentStatus.CANCELLED, Decimal("32970"))
    assert history(authorised)[-1] == ("release", "preauth", "cancelled", Decimal("32970"), "shop")
    with pytest.raises(IllegalPaymentTransition):
        capture_payment(payment=authorised, amount=Decimal("100"), by=Actor.shop())


def test_refunds_never_exceed_what_was_captured(authorised):
    capture_payment(payment=authorised, amount=Decimal("32970"), by=Actor.shop())

    refund_payment(payment=authorised, amount=Decimal("3990"), by=Actor.shop(), note="mittens returned")
    with pytest.raises(NothingToDo):
        refund_payment(payment=authorised, amount=Decimal("29000"), by=Actor.shop())
    refund_payment(payment=authorised, amount=Decimal("28980"), by=Actor.shop())

    authorised.refresh_from_db()
    assert authorised.status == PaymentStatus.REFUNDED
    assert authorised.refunded_amount == authorised.captured_amount == Decimal("32970")
    assert [row[:3] for row in history(authorised)[-2:]] == [
        ("refund", "confirmed", "confirmed"),
        ("refund", "confirmed", "refunded"),
    ]


def test_the_database_refuses_a_refund_above_the_captured_amount(authorised):
    # the last line of defence behind the services' row lock
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=authorised.pk).update(refunded_amount=Decimal("1"))


def test_a_payment_cannot_be_moved_outside_the_services(payment):
    with pytest.raises(UnrecordedPaymentChange):
        payment.change_status(PaymentStatus.CONFIRMED)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_demo_payment_form_is_in_the_shoppers_language(client, payment, language):
    # when a shopper opens the Dummy provider's payment form in Icelandic or Norwegian
    page = client.get(pay_page(payment), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then its labels and options are not left in English
    form = page.split('<form method="post"')[1].split("</form>")[0]
    # ("Status" is Norwegian too)
    for english in (
        *(("Status:",) if language == "is" else ()),
        "Fraud status",
        "Gateway response",
        "Verification result",
        "Waiting for confirmation",
        "Pre-authorized",
        "3DS disabled",
        "Gateway connection error",
        "Gateway returned unsupported response",
        ">Passed<",
        ">Review<",
    ):
        assert english not in form, english
