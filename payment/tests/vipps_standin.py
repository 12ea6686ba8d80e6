"""A stand-in for Vipps MobilePay's API, as its ePayment API guide publishes it, run locally in a
thread (there is no internet here; the real test environment is apitest.vipps.no).

It checks what Vipps checks — the access token, the subscription key and merchant serial number
on every call, an Idempotency-Key on every change, amounts as integers in minor units, the
reference pattern, never capturing more than is authorised or refunding more than is captured —
and answers as Vipps does. A request repeated with the same Idempotency-Key gets the first answer
and is not done twice. `approve` is the test environment's "force approve"; `webhook` builds a
webhook signed the way the Webhooks API documents (written here on its own, not with the shop's
code, so a mistake in one is not hidden by the same mistake in the other).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REFERENCE = re.compile(r"^[a-zA-Z0-9-]{8,64}$")
CAPTURE = re.compile(r"^/epayment/v1/payments/([^/]+)/(capture|cancel|refund)$")
GET = re.compile(r"^/epayment/v1/payments/([^/]+)$")
APPROVE = re.compile(r"^/epayment/v1/test/payments/([^/]+)/approve$")


class VippsStandIn:
    def __init__(self, *, client_id, client_secret, subscription_key, msn, webhook_secret):
        self.client_id = client_id
        self.client_secret = client_secret
        self.subscription_key = subscription_key
        self.msn = msn
        self.webhook_secret = webhook_secret
        self.tokens = set()
        self.payments = {}
        self.answers = {}  # Idempotency-Key → (status, body) of the first request with it
        self.requests = []  # (method, path, headers) of every request, for the tests to read
        self.failing = {}  # operation (capture, cancel, refund) → how many more requests answer 503
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what the test environment offers beside the API -------------------------------------

    def approve(self, reference):
        """The shopper approves in the app (the test environment's force approve)."""
        with self.lock:
            payment = self.payments[reference]
            assert payment["state"] == "CREATED"
            payment["state"] = "AUTHORIZED"
            payment["aggregate"]["authorizedAmount"]["value"] = payment["amount"]["value"]

    def fail_next(self, operation, times=1):
        """The next `times` requests of `operation` answer 503, as a gateway that is down for a
        while (nothing is done, and their Idempotency-Key is not spent)."""
        with self.lock:
            self.failing[operation] = times

    def set_state(self, reference, state):
        with self.lock:
            self.payments[reference]["state"] = state

    def webhook(self, *, url_path, host, reference, name, body=None):
        """A webhook Vipps would send for `reference` to http://host/url_path: (body, headers)."""
        payment = self.payments[reference]
        event = body or {
            "msn": self.msn,
            "reference": reference,
            "pspReference": str(uuid.uuid4()),
            "name": name,
            "amount": payment["amount"],
            "timestamp": "2026-11-30T12:00:00Z",
            "idempotencyKey": None,
            "success": True,
        }
        raw = json.dumps(event).encode()
        date = formatdate(usegmt=True)
        digest = base64.b64encode(hashlib.sha256(raw).digest()).decode()
        to_sign = "POST\n" + url_path + "\n" + date + ";" + host + ";" + digest
        signature = base64.b64encode(hmac.new(self.webhook_secret.encode(), to_sign.encode(), "sha256").digest())
        headers = {
            "x-ms-date": date,
            "x-ms-content-sha256": digest,
            "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
            + signature.decode(),
        }
        return raw, headers

    # --- the API ------------------------------------------------------------------------------

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else {}

            def do_POST(self):
                self._serve("POST")

            def do_GET(self):
                self._serve("GET")

            def _serve(self, method):
                standin.requests.append((method, self.path, dict(self.headers)))
                with standin.lock:
                    status, body = standin.serve(method, self.path, self.headers, self._body)
                self._answer(status, body)

        return Handler

    def _problem(self, status, title, detail=""):
        return status, {"type": "about:blank", "title": title, "status": status, "detail": detail}

    def serve(self, method, path, headers, read_body):
        if headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key:
            return self._problem(401, "Access denied", "Missing or wrong subscription key")
        if path == "/accesstoken/get" and method == "POST":
            if (headers.get("client_id"), headers.get("client_secret")) != (self.client_id, self.client_secret):
                return self._problem(401, "Unauthorized")
            token = secrets.token_urlsafe(24)
            self.tokens.add(token)
            return 200, {"token_type": "Bearer", "expires_in": "3600", "access_token": token}
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return self._problem(401, "Unauthorized", "Invalid access token")
        if headers.get("Merchant-Serial-Number") != self.msn:
            return self._problem(403, "Forbidden", "Wrong Merchant-Serial-Number")
        if method == "POST" and path == "/epayment/v1/payments":
            return self._idempotent(headers, lambda: self._create(read_body()))
        if method == "GET" and (match := GET.match(path)):
            payment = self.payments.get(match[1])
            return (200, _copy(payment)) if payment else self._problem(404, "Not Found")
        if method == "POST" and (match := CAPTURE.match(path)):
            reference, operation = match[1], match[2]
            if reference not in self.payments:
                return self._problem(404, "Not Found")
            body = read_body()
            if self.failing.get(operation, 0) > 0:
                self.failing[operation] -= 1
                return self._problem(503, "Service Unavailable", "Try again later")
            return self._idempotent(headers, lambda: getattr(self, f"_{operation}")(self.payments[reference], body))
        if method == "POST" and (match := APPROVE.match(path)):
            self.approve(match[1])
            return 200, {}
        return self._problem(404, "Not Found")

    def _idempotent(self, headers, operation):
        key = headers.get("Idempotency-Key")
        if not key or len(key) > 50:
            return self._problem(400, "Bad Request", "Idempotency-Key is required (at most 50 characters)")
        if key not in self.answers:
            self.answers[key] = operation()
        return self.answers[key]

    def _create(self, body):
        amount, reference = body.get("amount") or {}, body.get("reference", "")
        if not isinstance(amount.get("value"), int) or amount.get("currency") not in ("NOK", "DKK", "EUR"):
            return self._problem(400, "Bad Request", "amount must be {currency, value} in minor units")
        if not REFERENCE.match(reference):
            return self._problem(400, "Bad Request", "reference must match ^[a-zA-Z0-9-]{8,64}$")
        if body.get("userFlow") != "WEB_REDIRECT" or not body.get("returnUrl"):
            return self._problem(400, "Bad Request", "WEB_REDIRECT needs a returnUrl")
        if reference in self.payments:
            return self._problem(409, "Conflict", "The reference is already in use")
        zero = {"currency": amount["currency"], "value": 0}
        self.payments[reference] = {
            "reference": reference,
            "pspReference": str(uuid.uuid4()),
            "state": "CREATED",
            "amount": dict(amount),
            "paymentMethod": body.get("paymentMethod"),
            "profile": {},
            "returnUrl": body["returnUrl"],
            "aggregate": {
                name: dict(zero) for name in ("authorizedAmount", "cancelledAmount", "capturedAmount", "refundedAmount")
            },
        }
        return 201, {"redirectUrl": f"{self.url}/landing/{reference}", "reference": reference}

    def _adjusted(self, payment):
        return 200, {
            "amount": payment["amount"],
            "state": payment["state"],
            "aggregate": _copy(payment["aggregate"]),
            "pspReference": str(uuid.uuid4()),
            "reference": payment["reference"],
        }

    def _modification(self, payment, body):
        amount = body.get("modificationAmount") or {}
        if amount.get("currency") != payment["amount"]["currency"] or not isinstance(amount.get("value"), int):
            return None
        return amount["value"]

    def _capture(self, payment, body):
        value, aggregate = self._modification(payment, body), payment["aggregate"]
        if payment["state"] != "AUTHORIZED" or value is None:
            return self._problem(400, "Bad Request", "Only an authorised payment can be captured")
        left = (
            aggregate["authorizedAmount"]["value"]
            - aggregate["capturedAmount"]["value"]
            - aggregate["cancelledAmount"]["value"]
        )
        if not 0 < value <= left:
            return self._problem(400, "Bad Request", "Capture amount too high")
        aggregate["capturedAmount"]["value"] += value
        return self._adjusted(payment)

    def _cancel(self, payment, body):
        aggregate = payment["aggregate"]
        if payment["state"] not in ("CREATED", "AUTHORIZED"):
            return self._problem(400, "Bad Request", "The payment cannot be cancelled")
        if aggregate["capturedAmount"]["value"] == 0:
            payment["state"] = "TERMINATED"
        aggregate["cancelledAmount"]["value"] = (
            aggregate["authorizedAmount"]["value"] - aggregate["capturedAmount"]["value"]
        )
        return self._adjusted(payment)

    def _refund(self, payment, body):
        value, aggregate = self._modification(payment, body), payment["aggregate"]
        if (
            value is None
            or not 0 < value <= aggregate["capturedAmount"]["value"] - aggregate["refundedAmount"]["value"]
        ):
            return self._problem(400, "Bad Request", "Refund amount too high")
        aggregate["refundedAmount"]["value"] += value
        return self._adjusted(payment)


def _copy(value):
    return json.loads(json.dumps(value))
