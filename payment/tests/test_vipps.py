"""The Vipps MobilePay provider against the local stand-in (payment/tests/vipps_standin.py)."""

from decimal import Decimal
from urllib.parse import urlparse

import pytest
import requests
from django.urls import reverse

from payment.models import PaymentEvent, PaymentStatus
from payment.services import Actor, capture_payment, create_payment, refund_payment, release_payment
from payment.vipps import webhooks
from payment.vipps.client import VippsError, to_minor_units

pytestmark = pytest.mark.django_db

WEBHOOK = reverse("static_process_payment", kwargs={"variant": "vipps"})


def history(payment):
    return list(
        PaymentEvent.objects.filter(payment=payment).values_list("kind", "from_status", "to_status", "amount", "source")
    )


def send_webhook(client, vipps, payment, name, *, path=WEBHOOK, secret=None, body=None):
    raw, headers = vipps.webhook(url_path=path, host="testserver", reference=payment.token, name=name, body=body)
    if secret is not None:
        headers["Authorization"] = webhooks.authorization(
            secret=secret,
            method="POST",
            path_and_query=path,
            date=headers["x-ms-date"],
            host="testserver",
            body_hash=headers["x-ms-content-sha256"],
        )
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.post(path, raw, content_type="application/json", **extra)


@pytest.fixture
def started(client, vipps, nok_order):
    """The shopper has been sent to Vipps for her order (2 × NOK 1,299.50)."""
    payment = create_payment(order=nok_order, variant="vipps")
    response = client.get(reverse("payment_page", kwargs={"token": payment.token}))
    assert response.status_code == 302
    assert response["Location"] == f"{vipps.url}/landing/{payment.token}"
    payment.refresh_from_db()
    return payment


@pytest.fixture
def authorised(client, vipps, started):
    vipps.approve(started.token)
    send_webhook(client, vipps, started, "AUTHORIZED")
    started.refresh_from_db()
    assert started.status == PaymentStatus.PREAUTH
    return started


def test_the_signature_is_computed_as_vipps_documents_it():
    # the sample in Vipps's Webhooks API guide ("Request authentication")
    body = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
    body_hash = webhooks.content_hash(body)
    assert body_hash == "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    assert webhooks.authorization(
        secret="A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==",
        method="POST",
        path_and_query="/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63",
        date="Thu, 30 Mar 2023 08:38:32 GMT",
        host="webhook.site",
        body_hash=body_hash,
    ) == (
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        "&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
    )


def test_amounts_go_to_vipps_in_minor_units():
    assert to_minor_units(Decimal("1299.50"), "NOK") == 129950
    with pytest.raises(VippsError):
        to_minor_units(Decimal("0.005"), "NOK")


def test_creating_the_payment_sends_the_published_request(started, vipps):
    # then Vipps was asked once for a token, then for the payment, with the headers it requires
    (token_call, create_call) = vipps.requests[:2]
    assert token_call[:2] == ("POST", "/accesstoken/get")
    method, path, headers = create_call
    assert (method, path) == ("POST", "/epayment/v1/payments")
    assert headers["Ocp-Apim-Subscription-Key"] == "test-subscription"
    assert headers["Merchant-Serial-Number"] == "123456"
    assert headers["Vipps-System-Name"] == "nordurbud"
    assert headers["Authorization"].startswith("Bearer ")
    assert headers["Idempotency-Key"] == f"create-{started.token}"
    held = vipps.payments[started.token]
    assert held["amount"] == {"currency": "NOK", "value": 259900}
    assert urlparse(held["returnUrl"]).path == reverse("process_payment", kwargs={"token": started.token})
    assert started.status == PaymentStatus.INPUT


def test_the_shoppers_return_after_approving_authorises(client, vipps, started, nok_order):
    vipps.approve(started.token)

    response = client.get(reverse("process_payment", kwargs={"token": started.token}))

    assert response["Location"] == "http://testserver" + nok_order.get_absolute_url()
    started.refresh_from_db()
    assert (started.status, started.captured_amount) == (PaymentStatus.PREAUTH, Decimal("0"))
    assert history(started)[-1] == ("status", "input", "preauth", Decimal("2599.00"), "return")


def test_the_same_webhook_twice_and_the_shoppers_return_are_one_change(client, vipps, started):
    vipps.approve(started.token)

    assert send_webhook(client, vipps, started, "AUTHORIZED").status_code == 200
    assert send_webhook(client, vipps, started, "AUTHORIZED").status_code == 200
    client.get(reverse("process_payment", kwargs={"token": started.token}))

    assert [row[1:3] for row in history(started)] == [("waiting", "input"), ("input", "preauth")]
    assert history(started)[-1][4] == "webhook"


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(client, vipps, started):
    vipps.approve(started.token)

    response = send_webhook(client, vipps, started, "AUTHORIZED", secret="not-the-secret")

    assert response.status_code == 400
    started.refresh_from_db()
    assert started.status == PaymentStatus.INPUT


def test_a_webhook_whose_body_was_changed_is_400(client, vipps, started):
    raw, headers = vipps.webhook(url_path=WEBHOOK, host="testserver", reference=started.token, name="AUTHORIZED")
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}

    response = client.post(WEBHOOK, raw.replace(b"AUTHORIZED", b"CAPTURED"), content_type="application/json", **extra)

    assert response.status_code == 400


def test_a_signed_webhook_on_the_payments_own_callback_is_checked_too(client, vipps, started):
    vipps.approve(started.token)
    callback = reverse("process_payment", kwargs={"token": started.token})

    assert send_webhook(client, vipps, started, "AUTHORIZED", path=callback, secret="forged").status_code == 400
    assert send_webhook(client, vipps, started, "AUTHORIZED", path=callback).status_code == 200
    started.refresh_from_db()
    assert started.status == PaymentStatus.PREAUTH


def test_a_webhook_for_an_unknown_payment_is_404(client, vipps, started):
    body = {"msn": "123456", "reference": "7d5b2d63-2d63-4e0c-8d4c-000000000000", "name": "AUTHORIZED"}
    response = send_webhook(client, vipps, started, "AUTHORIZED", body=body)
    assert response.status_code == 404


def test_a_payment_vipps_holds_for_another_amount_is_refused(client, vipps, started):
    # given someone changed the amount at Vipps's end (or a stand-in of it)
    vipps.payments[started.token]["amount"]["value"] = 100
    vipps.approve(started.token)

    response = send_webhook(client, vipps, started, "AUTHORIZED")

    assert response.status_code == 400
    started.refresh_from_db()
    assert (started.status, started.total) == (PaymentStatus.INPUT, Decimal("2599.00"))


def test_capture_part_release_the_rest_then_refund(vipps, authorised):
    # when staff capture one of the two sweaters at hand-over and release the other
    capture_payment(payment=authorised, amount=Decimal("1299.50"), by=Actor.staff(None))
    release_payment(payment=authorised, by=Actor.staff(None))
    refund_payment(payment=authorised, amount=Decimal("299.50"), by=Actor.staff(None))

    # then Vipps holds the same as the shop
    aggregate = vipps.payments[authorised.token]["aggregate"]
    assert {name: amount["value"] for name, amount in aggregate.items()} == {
        "authorizedAmount": 259900,
        "capturedAmount": 129950,
        "cancelledAmount": 129950,
        "refundedAmount": 29950,
    }
    authorised.refresh_from_db()
    assert (authorised.status, authorised.captured_amount, authorised.refunded_amount) == (
        PaymentStatus.CONFIRMED,
        Decimal("1299.50"),
        Decimal("299.50"),
    )
    assert [row[:4] for row in history(authorised)[-3:]] == [
        ("capture", "preauth", "confirmed", Decimal("1299.50")),
        ("release", "confirmed", "confirmed", Decimal("1299.50")),
        ("refund", "confirmed", "confirmed", Decimal("299.50")),
    ]
    # each change carried an Idempotency-Key, each a different one
    keys = [
        headers["Idempotency-Key"]
        for method, path, headers in vipps.requests
        if path.endswith(("capture", "cancel", "refund"))
    ]
    assert len(keys) == len(set(keys)) == 3


def test_a_capture_repeated_with_its_idempotency_key_is_done_once(vipps, authorised):
    capture_payment(payment=authorised, amount=Decimal("1000"), by=Actor.staff(None))
    method, path, sent = next(request for request in vipps.requests if request[1].endswith("/capture"))

    # when the same request reaches Vipps again (a retry after a timeout), with the same key
    names = ("Authorization", "Ocp-Apim-Subscription-Key", "Merchant-Serial-Number", "Idempotency-Key")
    retry = requests.post(
        vipps.url + path,
        headers={name: sent[name] for name in names},
        json={"modificationAmount": {"currency": "NOK", "value": 100000}},
        timeout=5,
    )

    # then Vipps answers as the first time and has captured once
    assert retry.status_code == 200
    assert retry.json()["aggregate"]["capturedAmount"]["value"] == 100000
    assert vipps.payments[authorised.token]["aggregate"]["capturedAmount"]["value"] == 100000


def test_a_capture_vipps_refuses_changes_nothing(vipps, authorised):
    vipps.set_state(authorised.token, "EXPIRED")

    with pytest.raises(VippsError):
        capture_payment(payment=authorised, amount=Decimal("1000"), by=Actor.staff(None))

    authorised.refresh_from_db()
    assert (authorised.status, authorised.captured_amount) == (PaymentStatus.PREAUTH, Decimal("0"))
    assert history(authorised)[-1][0] == "status"


def test_an_unfinished_payment_that_the_shopper_aborts_is_cancelled(client, vipps, started):
    vipps.set_state(started.token, "ABORTED")

    response = send_webhook(client, vipps, started, "ABORTED")

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.status == PaymentStatus.CANCELLED
