"""The pickup e-mails: ready for pickup, some items ready ("2 of 3 items are ready"), and the
reminder for an order not collected.

Declared in O2O_NOTIFICATION_EMAILS (settings) and sent through the outbox (orders.notifications);
rendered in the order's language by orders.emails.render_email.
"""

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from orders.emails import lines_of_part, render_email
from orders.models import PICKUP_METHODS, Order
from orders.selectors import readiness_of

from .reminders import ready_at_of, uncollected_deadlines
from .selectors import pickup_of


def order_received_email(order: Order, *, parts: dict | None = None) -> EmailMultiAlternatives:
    """What was ordered, where, when, the order link and the pickup code to show at the counter.
    `parts`: of a split order, {"parts": [orders.selectors.OrderPart], "part_count", and the
    delivery and shipment of its other parts ("part_delivery", "part_shipment", or None)}, listed
    by orders/email/parts (the layer above knows the delivery and shipping apps)."""
    return render_email(
        order,
        template="pickup/email/order_received",
        subject=lambda: _("We have received your order %(number)s") % {"number": order.number},
        context={"pickup": pickup_of(order), **(parts or {})},
    )


def ready_for_pickup_email(order: Order) -> EmailMultiAlternatives:
    """Ready at the store, with the code; of a split order, only the part to collect is listed."""
    pickup = pickup_of(order)
    return render_email(
        order,
        template="pickup/email/ready_for_pickup",
        subject=lambda: (
            _("Your order %(number)s is ready for pickup at %(store)s")
            % {"number": order.number, "store": order.store.name}
        ),
        context={
            "opening_hours": list(order.store.opening_hours.all()),
            "pickup": pickup,
            **lines_of_part(order, pickup.fulfilment if pickup else None),
        },
    )


def pickup_reminder_email(order: Order) -> EmailMultiAlternatives:
    # "Collect by" is the very time the order is cancelled (pickup.reminders computes both).
    pickup = pickup_of(order)
    deadlines = uncollected_deadlines(
        store=order.store, ready_at=ready_at_of(order), booked_until=pickup.slot_end if pickup else None
    )
    return render_email(
        order,
        template="pickup/email/pickup_reminder",
        subject=lambda: (
            _("Reminder: your order %(number)s is waiting for you at %(store)s")
            % {"number": order.number, "store": order.store.name}
        ),
        context={"expires_at": deadlines.collect_by, "pickup": pickup},
    )


def partly_ready_email(order: Order, *, reference: str) -> EmailMultiAlternatives:
    """ "2 of 3 items are ready": the counts as they were when staff marked the lines (the
    notification's reference, "ready/total"), the items ready now and those still being got ready,
    and the pickup code to collect the ready ones."""
    ready, _sep, total = reference.partition("/")
    readiness = readiness_of(order)
    lines = list(order.lines.all())
    if order.is_split:  # the part to collect only; the delivered or shipped part is never "ready" here
        lines = list(
            order.lines.filter(fulfilment_lines__fulfilment__method__in=PICKUP_METHODS).distinct().order_by("pk")
        )
    return render_email(
        order,
        template="pickup/email/partly_ready",
        subject=lambda: (
            _("%(ready)s of %(total)s items of your order %(number)s are ready at %(store)s")
            % {"ready": ready, "total": total, "number": order.number, "store": order.store.name}
        ),
        context={
            "ready": ready,
            "total": total,
            "pickup": pickup_of(order),
            "ready_lines": [
                line
                for line in lines
                if line.pk in readiness.ready_line_ids and line.pk not in readiness.collected_line_ids
            ],
            "waiting_lines": [line for line in lines if line.pk not in readiness.ready_line_ids],
        },
    )
