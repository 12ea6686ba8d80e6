"""A Dummy provider whose release, refund and cancel fail while `FlakyProvider.failures` counts
down: a gateway that is down for a while, for the settlement's retries."""

from payments import PaymentError
from payments.dummy import DummyProvider


class FlakyProvider(DummyProvider):
    failures = 0

    def _maybe_fail(self):
        if FlakyProvider.failures > 0:
            FlakyProvider.failures -= 1
            raise PaymentError("the gateway is down")

    def release(self, payment):
        self._maybe_fail()
        return super().release(payment)

    def refund(self, payment, amount=None):
        self._maybe_fail()
        return super().refund(payment, amount)

    def cancel(self, payment):
        self._maybe_fail()
        return super().cancel(payment)
