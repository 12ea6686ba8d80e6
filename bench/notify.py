"""Notification latency: from "mark ready" (the store's click) to the e-mail handed to the
e-mail backend by a real Celery worker on Redis."""

import json
import time

from checkout.services import ConfirmedCheckout, place_pickup_order
from orders.services import Contact
from pickup.services import mark_ready_for_pickup

from .mail import MAIL_LOG_KEY, mail_log


def place_orders(*, count, store, product_ids):
    orders = []
    for number in range(count):
        orders.append(
            place_pickup_order(
                checkout=ConfirmedCheckout.at_current_prices(
                    quantities={product_ids[number % len(product_ids)]: 1},
                    store=store,
                    contact=Contact(
                        name=f"Notified {number}", email=f"notify-{number}@bench.example", phone="+354 555 4321"
                    ),
                )
            )
        )
    return orders


def measure(*, orders, rate_per_second, timeout=120):
    """Marks `orders` ready at `rate_per_second` (a busy chain's staff, all stores together) and
    waits for every e-mail. Returns (latencies in seconds, orders whose e-mail never came)."""
    log = mail_log()
    log.delete(MAIL_LOG_KEY)
    marked_at = {}
    interval = 1.0 / rate_per_second
    next_at = time.monotonic()
    for order in orders:
        next_at += interval
        marked_at[order.contact_email] = time.time()
        mark_ready_for_pickup(order=order)
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    deadline = time.monotonic() + timeout
    handed_over = {}
    while time.monotonic() < deadline:
        for raw in log.lrange(MAIL_LOG_KEY, 0, -1):
            entry = json.loads(raw)
            if entry["to"] in marked_at and "ready" in entry["subject"].lower():
                handed_over.setdefault(entry["to"], entry["at"])
        if len(handed_over) == len(marked_at):
            break
        time.sleep(0.5)
    latencies = sorted(handed_over[email] - marked_at[email] for email in handed_over)
    return latencies, len(marked_at) - len(handed_over)
