"""The Vipps MobilePay HTTP API as the ePayment API guide publishes it: an access token
(POST /accesstoken/get), then /epayment/v1/payments (create, get, capture, cancel, refund).

Every request carries the sales unit's subscription key and merchant serial number and says
which system sends it (Vipps-System-* headers); each changing request carries an Idempotency-Key,
so a request repeated after a timeout is done once by Vipps.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import requests
from payments import PaymentError

from o2o_site.money import minor_unit_digits

PRODUCTION_URL = "https://api.vipps.no"
TEST_URL = "https://apitest.vipps.no"
# A token is renewed this many seconds before Vipps says it expires.
TOKEN_MARGIN_SECONDS = 60


class VippsError(PaymentError):
    """Vipps answered with an error (its problem details are the message) or could not be reached."""


def to_minor_units(amount: Decimal, currency: str) -> int:
    """12.50 NOK → 1250 øre: the ePayment API takes integers in the currency's minor unit."""
    value = Decimal(amount).scaleb(minor_unit_digits(currency))
    if value != value.to_integral_value():
        raise VippsError(f"{amount} {currency} is not a whole number of minor units")
    return int(value)


def from_minor_units(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-minor_unit_digits(currency))


def amount_object(amount: Decimal, currency: str) -> dict:
    return {"currency": currency, "value": to_minor_units(amount, currency)}


class VippsClient:
    def __init__(
        self,
        *,
        api_url: str,
        client_id: str,
        client_secret: str,
        subscription_key: str,
        merchant_serial_number: str,
        system_name: str,
        system_version: str,
        timeout: float,
    ):
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.subscription_key = subscription_key
        self.merchant_serial_number = merchant_serial_number
        self.system_name = system_name
        self.system_version = system_version
        self.timeout = timeout
        self._token = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()

    def _common_headers(self) -> dict:
        return {
            "Ocp-Apim-Subscription-Key": self.subscription_key,
            "Merchant-Serial-Number": self.merchant_serial_number,
            "Vipps-System-Name": self.system_name,
            "Vipps-System-Version": self.system_version,
        }

    def access_token(self) -> str:
        """A bearer token, fetched once and reused until shortly before it expires (an hour in
        the test environment, a day in production)."""
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                headers = {
                    **self._common_headers(),
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                }
                body = self._send("POST", "/accesstoken/get", headers=headers)
                self._token = body["access_token"]
                lifetime = int(body.get("expires_in", 3600))
                self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 1)
            return self._token

    def _send(self, method: str, path: str, *, headers: dict, json: dict | None = None) -> dict:
        try:
            response = requests.request(method, self.api_url + path, headers=headers, json=json, timeout=self.timeout)
        except requests.RequestException as error:
            raise VippsError(f"Vipps could not be reached: {error}") from error
        if response.status_code >= 400:
            raise VippsError(_problem(response), code=response.status_code)
        return response.json() if response.content else {}

    def _call(self, method: str, path: str, *, idempotency_key: str | None = None, json: dict | None = None) -> dict:
        headers = {**self._common_headers(), "Authorization": f"Bearer {self.access_token()}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self._send(method, path, headers=headers, json=json)

    def create_payment(self, body: dict, *, idempotency_key: str) -> dict:
        return self._call("POST", "/epayment/v1/payments", idempotency_key=idempotency_key, json=body)

    def get_payment(self, reference: str) -> dict:
        return self._call("GET", f"/epayment/v1/payments/{reference}")

    def capture(self, reference: str, amount: dict, *, idempotency_key: str) -> dict:
        return self._call(
            "POST",
            f"/epayment/v1/payments/{reference}/capture",
            idempotency_key=idempotency_key,
            json={"modificationAmount": amount},
        )

    def cancel(self, reference: str, *, idempotency_key: str) -> dict:
        return self._call("POST", f"/epayment/v1/payments/{reference}/cancel", idempotency_key=idempotency_key)

    def refund(self, reference: str, amount: dict, *, idempotency_key: str) -> dict:
        return self._call(
            "POST",
            f"/epayment/v1/payments/{reference}/refund",
            idempotency_key=idempotency_key,
            json={"modificationAmount": amount},
        )


def _problem(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"Vipps answered {response.status_code}"
    if isinstance(body, dict):
        parts = [str(body.get(key)) for key in ("title", "detail") if body.get(key)]
        if parts:
            return f"Vipps answered {response.status_code}: " + " — ".join(parts)
    return f"Vipps answered {response.status_code}"
