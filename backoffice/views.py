"""Staff pages that compose several apps outside the admin: handing an order over at the curb,
which checks the pickup code (pickup) and takes the payment (payment), through checkout.handover."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from checkout import handover
from o2o_site.money import format_money
from orders.models import Order
from orders.services import IllegalTransition, OrderError
from payment.services import PaymentRefused
from pickup.forms import HandOverForm
from pickup.selectors import pickup_of
from pickup.services import WrongPickupCode
from pickup.views import queue_scope


def _quantities(request, order) -> dict[int, int] | None:
    """Units per line from the row's quantity inputs (`line-<id>`); None when the row sent none
    (hand over everything). A value that is not a whole number raises ValueError."""
    sent = {line.pk: request.POST.get(f"line-{line.pk}") for line in order.lines.all()}
    if all(value is None for value in sent.values()):
        return None
    return {pk: int(value) if value not in (None, "") else 0 for pk, value in sent.items()}


@staff_member_required
@require_POST
def curb_hand_over(request, number):
    stores, store = queue_scope(request)
    order = Order.objects.filter(number=number, store__in=[s.pk for s in stores]).select_related("store").first()
    if order is None:
        raise Http404(gettext("No such order in your stores."))
    back = reverse("pickup:queue") + (f"?{urlencode({'store': store.slug})}" if store else "")
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(back)
    try:
        handed = handover.hand_over(
            order=order,
            code=form.cleaned_data["code"],
            by=request.user,
            quantities=_quantities(request, order),
            till_receipt_number=request.POST.get("till_receipt_number", ""),
            at_curb=True,
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    except ValueError:
        messages.error(request, gettext("Order %(number)s: type each quantity as a whole number.") % {"number": number})
    except WrongPickupCode as error:
        messages.error(request, gettext("Order %(number)s: %(reason)s") % {"number": order.number, "reason": error})
    except IllegalTransition as error:
        messages.error(
            request,
            gettext("Order %(number)s is “%(status)s” and cannot be handed over.")
            % {"number": order.number, "status": error.order.get_status_display()},
        )
    except (handover.HandOverError, OrderError, PaymentRefused) as error:
        messages.error(request, gettext("Order %(number)s: %(reason)s") % {"number": order.number, "reason": error})
    else:
        message = gettext("Order %(number)s handed over to %(collector)s.") % {
            "number": order.number,
            "collector": pickup_of(handed.order).collector,
        }
        if handed.captured is not None:
            message += " " + gettext("%(amount)s was captured from the card payment.") % {
                "amount": format_money(handed.value, order.currency)
            }
        elif handed.till is not None:
            message += " " + gettext("%(amount)s paid at the till, receipt %(receipt)s.") % {
                "amount": format_money(handed.value, order.currency),
                "receipt": handed.till.till_receipt_number,
            }
        messages.success(request, message)
    return redirect(back)
