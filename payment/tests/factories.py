"""Payments in a given state, made through payment.services as a shopper would (no rows written
by hand), and a provider that declines every capture."""

import contextlib

from payments import PaymentError, RedirectNeeded
from payments.dummy import DummyProvider

from payment.models import Payment, PaymentStatus
from payment.services import Actor, create_payment, payment_form

DUMMY = ("payments.dummy.DummyProvider", {"capture": False})
# A Dummy provider whose captures the "bank" declines, as a card that lapsed since checkout would.
DECLINING = ("payment.tests.factories.DecliningDummyProvider", {"capture": False})
# A Dummy provider that takes money but cannot let go of the rest (its gateway fails on release).
STICKY = ("payment.tests.factories.ReleaseFailingDummyProvider", {"capture": False})


class DecliningDummyProvider(DummyProvider):
    def capture(self, payment, amount=None):
        raise PaymentError("Card declined by the issuer")


class ReleaseFailingDummyProvider(DummyProvider):
    def release(self, payment):
        raise PaymentError("Gateway timeout")


def authorised_payment(order, *, variant: str = "dummy", status: str = PaymentStatus.PREAUTH) -> Payment:
    """A payment of `order` the shopper completed on the Dummy form: authorised (or, with
    status "confirmed", charged at once)."""
    payment = create_payment(order=order, variant=variant)
    # The Dummy form answers a completed payment by sending the shopper on (RedirectNeeded).
    with contextlib.suppress(RedirectNeeded):
        payment_form(
            payment=payment,
            data={"status": status, "fraud_status": "accept", "gateway_response": "3ds-disabled"},
            by=Actor.shopper(),
        )
    payment.refresh_from_db()
    assert payment.status == status
    return payment
