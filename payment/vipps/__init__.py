"""Vipps MobilePay as a django-payments provider (the ePayment API).

The shopper is sent to Vipps (create payment, WEB_REDIRECT) and comes back to the payment's
process URL; Vipps also sends webhooks to /payments/process/vipps/. Neither is trusted for what
happened: both only make the provider ask Vipps (GET payment) and move the payment to the state
Vipps reports, after checking that Vipps holds exactly the order's amount and currency. Capture,
cancel (release) and refund are sent with an Idempotency-Key derived from the payment and what
was done to it before, so a retried request is the same request.

Settings (PAYMENT_VARIANTS["vipps"], from the environment: see the README, "Payments").
"""

import hashlib
import json

from django.http import HttpResponseRedirect, JsonResponse
from payments import PaymentError, PaymentStatus, RedirectNeeded
from payments.core import BasicProvider

from . import webhooks
from .client import PRODUCTION_URL, VippsClient, amount_object, from_minor_units

__all__ = ["VippsProvider"]

# Vipps's states → django-payments' statuses (payment.models.PaymentStatus names them).
CREATED, AUTHORIZED, ABORTED, EXPIRED, TERMINATED = "CREATED", "AUTHORIZED", "ABORTED", "EXPIRED", "TERMINATED"


def status_from(vipps_payment: dict) -> str:
    """The status that a payment as Vipps reports it (GET payment) means for the shop."""
    state = vipps_payment.get("state")
    aggregate = vipps_payment.get("aggregate", {})

    def value(name):
        return int(aggregate.get(name, {}).get("value", 0))

    authorized, cancelled = value("authorizedAmount"), value("cancelledAmount")
    captured, refunded = value("capturedAmount"), value("refundedAmount")
    if captured:
        # Everything taken was given back and nothing is left to take: refunded.
        settled = captured + cancelled >= authorized
        return PaymentStatus.REFUNDED if refunded >= captured and settled else PaymentStatus.CONFIRMED
    return {
        CREATED: PaymentStatus.INPUT,
        AUTHORIZED: PaymentStatus.PREAUTH,
        ABORTED: PaymentStatus.CANCELLED,  # the shopper said no in the app
        EXPIRED: PaymentStatus.REJECTED,  # the shopper did not answer in time
        TERMINATED: PaymentStatus.CANCELLED,  # we (or the merchant portal) cancelled it
    }.get(state, PaymentStatus.ERROR)


class VippsProvider(BasicProvider):
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        subscription_key: str,
        merchant_serial_number: str,
        webhook_secret: str = "",
        api_url: str = PRODUCTION_URL,
        system_name: str = "nordurbud",
        system_version: str = "1.0",
        timeout: float = 10,
        capture: bool = False,
    ):
        super().__init__(capture=capture)
        self.merchant_serial_number = merchant_serial_number
        self.webhook_secret = webhook_secret
        self.client = VippsClient(
            api_url=api_url,
            client_id=client_id,
            client_secret=client_secret,
            subscription_key=subscription_key,
            merchant_serial_number=merchant_serial_number,
            system_name=system_name,
            system_version=system_version,
            timeout=timeout,
        )

    # --- the shopper pays -------------------------------------------------------------------

    @staticmethod
    def reference(payment) -> str:
        # Vipps references are 8-64 of [a-zA-Z0-9-]: the payment's UUID token is one.
        return payment.transaction_id or payment.token

    def get_form(self, payment, data=None):
        """Create the payment at Vipps (once) and send the shopper there."""
        if payment.status == PaymentStatus.WAITING:
            reference = self.reference(payment)
            created = self.client.create_payment(
                {
                    "amount": amount_object(payment.total, payment.currency),
                    "paymentMethod": {"type": "WALLET"},
                    "reference": reference,
                    "returnUrl": self.get_return_url(payment),
                    "userFlow": "WEB_REDIRECT",
                    "paymentDescription": (payment.description or reference)[:100],
                },
                idempotency_key=f"create-{payment.token}",
            )
            payment.transaction_id = reference
            payment.attrs.redirect_url = created["redirectUrl"]
            payment.change_status(PaymentStatus.INPUT)
            payment.save()
        if payment.status == PaymentStatus.INPUT:
            raise RedirectNeeded(payment.attrs.redirect_url)
        raise RedirectNeeded(self._back_to_shop(payment))

    @staticmethod
    def _back_to_shop(payment) -> str:
        if payment.status in (PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED):
            return payment.get_success_url()
        return payment.get_failure_url()

    def process_data(self, payment, request):
        """The shopper's return (GET) or a webhook (POST, signed): ask Vipps, follow its answer."""
        if request.method == "POST":
            self._verify(request)
        self.sync(payment)
        if request.method == "POST":
            return JsonResponse({"status": "ok"})
        return HttpResponseRedirect(self._back_to_shop(payment))

    def sync(self, payment) -> None:
        """Move `payment` to the status Vipps reports for it, refusing a payment that Vipps holds
        for another amount or currency than ours."""
        reported = self.client.get_payment(self.reference(payment))
        amount = reported.get("amount", {})
        if (
            amount.get("currency") != payment.currency
            or from_minor_units(amount.get("value", -1), payment.currency) != payment.total
        ):
            raise PaymentError(
                f"Vipps holds {amount} for this payment, not {payment.total} {payment.currency}", code=400
            )
        status = status_from(reported)
        if status != payment.status:
            payment.change_status(status)
        payment.attrs.provider_reference = reported.get("pspReference", "")

    # --- webhooks ---------------------------------------------------------------------------

    def _verify(self, request) -> None:
        if not webhooks.is_authentic(
            secret=self.webhook_secret,
            method=request.method,
            path_and_query=request.get_full_path(),
            host=request.get_host(),
            headers=request.headers,
            body=request.body,
        ):
            raise PaymentError("The webhook's signature is not Vipps's", code=400)

    def get_token_from_request(self, payment, request) -> str:
        """The payment a webhook is about (its reference is our payment's token)."""
        self._verify(request)
        try:
            event = json.loads(request.body)
            reference, msn = event["reference"], str(event["msn"])
        except (ValueError, KeyError, TypeError) as error:
            raise PaymentError("The webhook is not an ePayment event", code=400) from error
        if msn != str(self.merchant_serial_number):
            raise PaymentError("The webhook is for another sales unit", code=400)
        return reference

    # --- staff: capture, release, refund; cancelling an unfinished payment -------------------

    @staticmethod
    def _key(operation: str, payment, *parts) -> str:
        # The same operation on the payment in the same state is the same request: a retry after
        # a timeout repeats the key and Vipps does it once. Vipps allows up to 50 characters.
        digest = hashlib.sha256("|".join(map(str, (payment.token, *parts))).encode()).hexdigest()
        return f"{operation}-{digest[:40]}"

    def capture(self, payment, amount=None):
        amount = payment.capturable_amount if amount is None else amount
        answer = self.client.capture(
            self.reference(payment),
            amount_object(amount, payment.currency),
            idempotency_key=self._key("capture", payment, payment.captured_amount, amount),
        )
        payment.attrs.provider_reference = answer.get("pspReference", "")
        return amount

    def release(self, payment) -> None:
        answer = self.client.cancel(
            self.reference(payment), idempotency_key=self._key("cancel", payment, payment.captured_amount)
        )
        payment.attrs.provider_reference = answer.get("pspReference", "")

    def refund(self, payment, amount=None):
        amount = payment.refundable_amount if amount is None else amount
        answer = self.client.refund(
            self.reference(payment),
            amount_object(amount, payment.currency),
            idempotency_key=self._key("refund", payment, payment.refunded_amount, amount),
        )
        payment.attrs.provider_reference = answer.get("pspReference", "")
        return amount

    def cancel(self, payment) -> None:
        if payment.transaction_id:
            self.release(payment)
