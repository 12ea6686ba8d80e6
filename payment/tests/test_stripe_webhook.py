"""Stripe (django-payments' StripeProviderV3) webhooks, signed offline with Stripe's own code."""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.urls import reverse
from payments.core import PROVIDER_CACHE

from payment.models import PaymentEvent, PaymentStatus
from payment.services import create_payment

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_offline"
WEBHOOK = reverse("static_process_payment", kwargs={"variant": "stripe"})


@pytest.fixture(autouse=True)
def stripe_variant(payment_variants):
    payment_variants["stripe"] = (
        "payments.stripe.StripeProviderV3",
        {"api_key": "sk_test_offline", "endpoint_secret": SECRET, "secure_endpoint": True},
    )
    PROVIDER_CACHE.clear()


def session_completed(token, *, amount_total=3297000, currency="isk"):
    return json.dumps(
        {
            "id": "evt_test_1",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "client_reference_id": token,
                    "status": "complete",
                    "payment_status": "paid",
                    "amount_total": amount_total,
                    "currency": currency,
                    "payment_intent": "pi_test_1",
                }
            },
        }
    )


def post(client, body, secret=SECRET):
    # The Stripe-Signature header as Stripe makes it, with stripe-python's own signing code.
    timestamp = int(time.time())
    signature = f"t={timestamp},v1={stripe.WebhookSignature._compute_signature(f'{timestamp}.{body}', secret)}"
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_a_signed_completed_session_charges_the_orders_total(client, order):
    payment = create_payment(order=order, variant="stripe")

    response = post(client, session_completed(payment.token))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("32970"))
    event = PaymentEvent.objects.get(payment=payment)
    assert (event.from_status, event.to_status, event.source, event.note) == (
        "waiting",
        "confirmed",
        "webhook",
        "webhook: stripe",
    )


def test_the_same_webhook_twice_is_one_change(client, order):
    payment = create_payment(order=order, variant="stripe")
    body = session_completed(payment.token)

    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200

    assert PaymentEvent.objects.filter(payment=payment).count() == 1


def test_a_bad_signature_is_400_and_changes_nothing(client, order):
    payment = create_payment(order=order, variant="stripe")

    response = post(client, session_completed(payment.token), secret="whsec_someone_else")

    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING
    assert not PaymentEvent.objects.exists()


def test_a_webhook_for_an_unknown_payment_is_404(client, order):
    response = post(client, session_completed("0b52e5bd-be1e-42a1-acf2-e331f52c68ac"))
    assert response.status_code == 404
