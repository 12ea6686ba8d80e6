"""The payment page and django-payments' two callback endpoints, on the names and paths
django-payments gives them (`process_payment`, `static_process_payment`), served here so that
every callback runs through payment.services: the payment row locked, each change recorded, a
webhook and the shopper's return arriving together changing the payment once.

Callbacks answer what a provider's retry logic understands: 400 for a request we refuse (a bad
signature, a tampered amount), 404 for a payment we do not have, 409 for a change the payment's
state does not allow; a refused callback changes nothing.
"""

import logging
import uuid
from urllib.error import URLError

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from payments import PaymentError, RedirectNeeded
from payments.core import provider_factory

from orders.models import Order, OrderStatus
from orders.services import expire_payment_hold

from . import services
from .models import Payment, PaymentEventSource, PaymentStatus
from .receipts import receipt_context, receipt_for_page
from .services import Actor, IllegalPaymentTransition, PaymentRefused

logger = logging.getLogger(__name__)

OPEN = (PaymentStatus.WAITING, PaymentStatus.INPUT)


# django-payments' Dummy form (the demo's provider) names its fields by their attribute names and
# its gateway responses in plain strings, never through gettext: labelled here in the shopper's
# language. The statuses' own labels are pgettext'd by django-payments ("payment status", "fraud
# status") and translated in our catalogues.
PROVIDER_FORM_LABELS = {
    "status": _("Status"),
    "fraud_status": _("Fraud status"),
    "gateway_response": _("Gateway response"),
    "verification_result": _("Verification result"),
}
PROVIDER_FORM_CHOICES = {
    "gateway_response": {
        "3ds-disabled": pgettext_lazy("demo payment gateway response", "3DS disabled"),
        "3ds-redirect": pgettext_lazy("demo payment gateway response", "3DS redirect"),
        "failure": pgettext_lazy("demo payment gateway response", "Gateway connection error"),
        "payment-error": pgettext_lazy("demo payment gateway response", "Gateway returned unsupported response"),
    },
}


def _in_the_shoppers_language(form):
    """The provider's form with the labels and choices it leaves in English translated."""
    for name, field in form.fields.items():
        if name in PROVIDER_FORM_LABELS and field.label is None:
            field.label = PROVIDER_FORM_LABELS[name]
        if name in PROVIDER_FORM_CHOICES:
            labels = PROVIDER_FORM_CHOICES[name]
            field.choices = [(value, labels.get(value, label)) for value, label in field.choices]
    return form


@require_http_methods(["GET", "POST"])
def pay(request, token):
    """The shopper pays: the provider's form (the Dummy provider's) or a redirect to its page."""
    payment = get_object_or_404(Payment.objects.select_related("order"), token=token)
    # A hold that has ended is ended here and now, whether or not beat has come round yet: its
    # units may already be someone else's (orders.services.expire_payment_hold).
    order, now = payment.order, timezone.now()
    held_until = order.payment_hold_until
    hold_ended = order.status == OrderStatus.AWAITING_PAYMENT and held_until is not None and held_until <= now
    if hold_ended and expire_payment_hold(order=order, now=now) is not None:
        order.refresh_from_db()
    if payment.status not in OPEN or payment.order.status == OrderStatus.CANCELLED:
        # Finished, or its order was cancelled (an ended hold): the order page says which.
        return HttpResponseRedirect(payment.get_success_url())
    form = None
    try:
        form = services.payment_form(
            payment=payment, data=request.POST or None, by=Actor.shopper(getattr(request, "user", None))
        )
    except RedirectNeeded as redirect:
        return HttpResponseRedirect(str(redirect))
    except (PaymentError, PaymentRefused, URLError) as error:
        # Nothing was changed (the change was rolled back): the shopper may simply try again.
        logger.warning("payment %s: the provider failed: %s", payment.pk, error)
        messages.error(
            request, gettext("The payment could not be completed and nothing was charged. Please try again.")
        )
        payment.refresh_from_db()
    if form is not None:
        _in_the_shoppers_language(form)
    return render(request, "payment/pay.html", {"payment": payment, "order": payment.order, "form": form})


def _refused(error: Exception, status: int) -> JsonResponse:
    return JsonResponse({"error": str(error)}, status=status)


def _process(request, payment: Payment, by: Actor, provider=None):
    try:
        return services.process_provider_request(payment=payment, request=request, by=by, provider=provider)
    except RedirectNeeded as redirect:
        return HttpResponseRedirect(str(redirect))
    except IllegalPaymentTransition as error:
        logger.warning("payment %s: callback refused: %s", payment.pk, error)
        if by.source == PaymentEventSource.RETURN:
            # A person's browser (late from the provider, a link opened again): their order page,
            # which says where the order and its payment stand, never a JSON body.
            messages.warning(
                request,
                gettext(
                    "This payment was already finished, or its order was cancelled, so nothing was changed. "
                    "Your order page shows where the order and its payment stand."
                ),
            )
            return HttpResponseRedirect(payment.get_failure_url())
        return _refused(error, 409)
    except PaymentRefused as error:
        logger.warning("payment %s: callback refused: %s", payment.pk, error)
        return _refused(error, 400)
    except PaymentError as error:
        logger.warning("payment %s: callback refused: %s", payment.pk, error)
        return _refused(error, error.code if isinstance(error.code, int) and 400 <= error.code < 500 else 400)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def process_payment(request, token):
    """django-payments' per-payment callback: the shopper's return (GET) or a provider's POST."""
    payment = Payment.objects.filter(token=token).first()
    if payment is None:
        raise Http404("No such payment")
    # GET: the shopper's browser coming back; POST: a provider calling.
    by = Actor.returned(getattr(request, "user", None)) if request.method == "GET" else Actor.webhook(payment.variant)
    return _process(request, payment, by)


@csrf_exempt
@require_http_methods(["POST"])
def static_process_payment(request, variant):
    """django-payments' per-provider webhook endpoint (Stripe's, Vipps's)."""
    try:
        provider = provider_factory(variant)
    except ValueError:
        return _refused(ValueError("No such payment provider"), 404)
    try:
        token = provider.get_token_from_request(payment=None, request=request)
    except Exception as error:  # noqa: BLE001 — a provider's own signature errors (Stripe's) included
        # Whatever a provider raises over a request it cannot authenticate or read is the
        # sender's fault, never a 500: nothing was looked up, nothing changed.
        logger.warning("%s webhook refused: %s", variant, error)
        return _refused(PaymentError("The webhook could not be verified"), 400)
    payment = Payment.objects.filter(token=str(token or ""), variant=variant).first() if _is_uuid(token) else None
    if payment is None:
        return _refused(PaymentError("No such payment"), 404)
    return _process(request, payment, Actor.webhook(variant), provider=provider)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@require_http_methods(["GET"])
def receipt(request, token, number):
    """A receipt's printable page, behind the order's signed link: the same 404 for a bad
    signature, an unknown receipt and another order's receipt."""
    order_number = Order.number_from_token(token)
    found = receipt_for_page(order_number=order_number, number=number) if order_number else None
    if found is None:
        raise Http404
    response = render(request, "payment/receipt.html", {"view": receipt_context(found), "order": found.order})
    # The link is the key to the order: keep it out of shared caches and search engines.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
