"""Telling shoppers about their orders: the one path from an outbox row to an e-mail.

The outbox. `notify(order=…, kind=…)` writes a Notification row in the caller's transaction (the
status change that causes it) and, after commit, hands a delivery task to the broker, bounded:
a broker that is down, unreachable or hung costs the request under a second, never a hang, and
the row simply stays pending; for BROKER_RETRY_AFTER seconds after such a failure the process
does not try again (an action marking twenty orders ready pays once, not twenty times). The
relay (`relay_notifications`, run by Celery beat every NOTIFICATION_RELAY_INTERVAL seconds and by
`manage.py relay_notifications`) picks pending rows that were never queued, or whose task got
lost, with SELECT … FOR UPDATE SKIP LOCKED and queues them again; so every committed
notification goes out once the broker is back.

Delivery, at most once per (order, kind). A task first *claims* the row in a committed
transaction (status "sending", a claim token, claimed_at, one more attempt); then, in another
committed write, records `send_started_at`; then hands the message to the mail server; then marks
the row sent, only if it still holds the claim. A duplicate task finds the row claimed or sent and
does nothing. A worker that dies (SIGKILL, OOM, a lost machine) leaves a "sending" row behind;
the same task delivered again (acks_late, reject_on_worker_lost) recognises its own claim, and the
relay takes over claims older than NOTIFICATION_CLAIM_TIMEOUT (longer than the task's hard time
limit, so their worker is certainly gone). Recovery then decides:

- no `send_started_at`: the worker died before talking to the mail server; nothing was sent, so
  the row goes back to pending and is delivered again;
- `send_started_at` set: the worker died while or after handing the message over, and only the
  mail server knows whether it was accepted. Every message carries a Message-ID fixed per
  notification; if the e-mail backend can look it up (a `delivery_status(message_id)` method
  returning True/False, as transactional mail APIs offer), its answer decides: sent, or send
  again. Plain SMTP cannot answer, and guessing would either lose the e-mail or send it twice,
  so the row becomes "unconfirmed" and a manager decides in the admin (resend, or mark it sent
  after checking with the shopper). check_integrity reports such rows. The window is the
  length of one SMTP conversation; even if a person resends, mail clients that deduplicate by
  Message-ID show it once.

Failures. An e-mail backend error releases the claim with the error on record and the task
retries with exponential backoff (with jitter, capped); after NOTIFICATION_MAX_ATTEMPTS tries
the row is "failed", visible to managers, who can resend it (`resend_notifications`).
"""

import datetime
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnavailable

from orders.models import Order
from stores.models import Store

from . import tasks
from .models import Notification, NotificationKind, NotificationStatus

logger = logging.getLogger(__name__)

# Rows the relay leaves to the on_commit dispatch of the request that wrote them.
DISPATCH_GRACE = datetime.timedelta(seconds=5)
# A task handed to the broker that has not claimed its row by then is taken as lost (a broker
# restarted without persistence, a purged queue): the relay queues it again. Duplicates are harmless.
REDISPATCH_AFTER = datetime.timedelta(seconds=30)
# Publishing from a web request: one quick reconnect (a pooled connection may be stale after a
# broker restart), then give up; the row stays pending for the relay.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# A broker that hangs rather than refuses costs a publish up to three socket timeouts
# (CELERY_BROKER_SOCKET_TIMEOUT); after one failure, requests leave their rows to the relay for a while.
BROKER_RETRY_AFTER = 10.0  # seconds
ERROR_LENGTH = 2000

# Finished states: nothing more happens to the row without a person.
SETTLED = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.UNCONFIRMED)


class DeliveryFailed(Exception):
    """The mail server refused or failed; `retry_in` seconds until the next try, None if none is left."""

    def __init__(self, error, *, retry_in):
        super().__init__(str(error))
        self.retry_in = retry_in


# One function per kind builds the message from the order: {kind: builder(order) -> EmailMessage}.
MESSAGE_BUILDERS: dict[str, Callable[[Order], EmailMessage]] = {}


def message_for(kind):
    """Register the e-mail builder for a notification kind (a decorator)."""

    def register(builder):
        MESSAGE_BUILDERS[kind] = builder
        return builder

    return register


# --- the outbox -------------------------------------------------------------------------------


def notify(*, order, kind) -> Notification:
    """Write the shopper's notification in the caller's transaction; queue it after commit.

    Unique per (order, kind): notifying twice returns the first row and queues nothing more.
    """
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            order=order, kind=kind, defaults={"recipient": order.contact_email}
        )
        if created:
            transaction.on_commit(partial(dispatch, notification_id=notification.pk))
    return notification


class _BrokerOutage:
    """When this process last found the broker unavailable; requests skip it until `until`."""

    until = 0.0

    def noticed(self):
        self.until = time.monotonic() + BROKER_RETRY_AFTER

    def over(self):
        self.until = 0.0

    @property
    def ongoing(self) -> bool:
        return time.monotonic() < self.until


broker_outage = _BrokerOutage()


def dispatch(*, notification_id, countdown=None, during_outage=False) -> bool:
    """Hand the delivery task to the broker, bounded in time. Returns whether it was queued.

    Never raises for an unreachable broker: the notification stays pending and the relay queues
    it once the broker is back. (Without CELERY_TASK_ALWAYS_EAGER the bound comes from the
    broker's connect and socket timeouts in settings and PUBLISH_RETRY_POLICY.) Within
    BROKER_RETRY_AFTER of a failure it does not try at all, unless `during_outage` (the relay).
    """
    if broker_outage.ongoing and not during_outage:
        logger.info("notification %s stays queued in the database: the broker was unavailable", notification_id)
        return False
    try:
        tasks.send_notification.apply_async(
            kwargs={"notification_id": notification_id},
            countdown=countdown,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except (BrokerUnavailable, OSError) as error:
        broker_outage.noticed()
        logger.warning("notification %s stays queued in the database: broker unavailable (%s)", notification_id, error)
        return False
    broker_outage.over()
    due = timezone.now() + datetime.timedelta(seconds=countdown or 0)
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(dispatched_at=due)
    return True


def waiting_for_the_broker(*, orders, kind=NotificationKind.READY_FOR_PICKUP) -> int:
    """How many of these orders' notifications could not be queued yet (the broker is down)."""
    return Notification.objects.filter(
        order__in=orders, kind=kind, status=NotificationStatus.PENDING, dispatched_at__isnull=True
    ).count()


# --- delivery ---------------------------------------------------------------------------------


def deliver_notification(*, notification_id, claim_token=None) -> bool:
    """Claim, send and mark one notification. Returns whether this call sent an e-mail.

    `claim_token` identifies the delivery (the task id): the same task delivered again after its
    worker died recognises its own claim. Raises DeliveryFailed when the mail server fails.
    """
    token = claim_token or uuid.uuid4().hex
    notification = _claim(notification_id=notification_id, token=token)
    if notification is None:
        return False
    try:
        message = build_message(notification)
    except Exception as error:
        # A template or data bug: no use retrying it every few seconds, but keep the row visible.
        _release_claim(notification, token=token, error=error, retry=False)
        raise DeliveryFailed(error, retry_in=None) from error
    # Committed before the mail server is called: from here on a lost worker leaves an
    # ambiguous row, before it a row that is safe to send again (see the module docstring).
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(send_started_at=timezone.now())
    try:
        message.send()
    except Exception as error:
        retry_in = _release_claim(notification, token=token, error=error, retry=True)
        raise DeliveryFailed(error, retry_in=retry_in) from error
    marked = Notification.objects.filter(
        pk=notification.pk, claim_token=token, status=NotificationStatus.SENDING
    ).update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    if not marked:
        logger.error("notification %s was sent but its claim had been taken over", notification.pk)
    return True


def _claim(*, notification_id, token):
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("order__store")
            .prefetch_related("order__store__opening_hours")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status in SETTLED:
            return None
        if notification.status == NotificationStatus.SENDING:
            own_claim = notification.claim_token == token
            if not own_claim and notification.claimed_at > now - claim_timeout():
                return None  # another delivery is at it right now
            # This very task ran before and its worker died, or a claim outlived any task: recover.
            if not _recover_abandoned_claim(notification):
                return None
        notification.status = NotificationStatus.SENDING
        notification.claim_token = token
        notification.claimed_at = now
        notification.send_started_at = None
        notification.attempts += 1
        notification.save(update_fields=["status", "claim_token", "claimed_at", "send_started_at", "attempts"])
    return notification


def _recover_abandoned_claim(notification) -> bool:
    """Settle a "sending" row whose worker is gone. Returns True when it must be sent (again).

    Called with the row locked; saves the row unless it is to be sent again (the caller claims it).
    """
    if notification.send_started_at is None:
        logger.warning("notification %s: worker lost before sending; sending again", notification.pk)
        return True
    outcome = _mail_server_outcome(notification)
    if outcome is False:
        logger.warning("notification %s: the mail server never got it; sending again", notification.pk)
        return True
    if outcome is True:
        notification.status = NotificationStatus.SENT
        notification.sent_at = notification.send_started_at
        notification.last_error = ""
        logger.warning("notification %s: the mail server confirms it was sent", notification.pk)
    else:
        notification.status = NotificationStatus.UNCONFIRMED
        notification.last_error = _(
            "The worker stopped while handing this e-mail to the mail server (%(time)s UTC); it may or may "
            "not have arrived. Check with the shopper, then resend it or mark it sent."
        ) % {"time": notification.send_started_at.strftime("%Y-%m-%d %H:%M:%S")}
        logger.error("notification %s: delivery unconfirmed after a lost worker", notification.pk)
    notification.save(update_fields=["status", "sent_at", "last_error"])
    return False


def _mail_server_outcome(notification):
    """True/False when the e-mail backend can say whether it accepted the message, else None."""
    connection = get_connection()
    lookup = getattr(connection, "delivery_status", None)
    if lookup is None:
        return None
    try:
        return lookup(message_id_for(notification))
    except Exception:
        logger.exception("notification %s: the mail server could not be asked", notification.pk)
        return None


def _release_claim(notification, *, token, error, retry):
    """Give the row back after a failed try. Returns seconds until the retry, or None when failed."""
    retry_in = retry_delay(attempt=notification.attempts) if retry else None
    if retry_in is not None and notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        retry_in = None
    changes = {
        "claim_token": "",
        "claimed_at": None,
        "send_started_at": None,
        "last_error": f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
    }
    if retry_in is None:
        changes["status"] = NotificationStatus.FAILED
        logger.error(
            "notification %s failed for good after %s tries: %s", notification.pk, notification.attempts, error
        )
    else:
        changes["status"] = NotificationStatus.PENDING
        changes["dispatched_at"] = timezone.now() + datetime.timedelta(seconds=retry_in)
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(**changes)
    return retry_in


def retry_delay(*, attempt) -> float:
    """Seconds before try `attempt + 1`: doubling from NOTIFICATION_RETRY_BACKOFF, capped, ±25 %."""
    base = settings.NOTIFICATION_RETRY_BACKOFF * 2 ** max(attempt - 1, 0)
    return min(base, settings.NOTIFICATION_RETRY_BACKOFF_MAX) * random.uniform(0.75, 1.25)


def claim_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT)


def mark_notification_failed(*, notification_id, error) -> None:
    """Give up on a notification (kept for callers of the former pickup.services function)."""
    Notification.objects.filter(pk=notification_id).exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.FAILED, last_error=str(error)[:ERROR_LENGTH], claim_token="", claimed_at=None
    )


# --- the relay --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayReport:
    queued: int
    waiting: int
    recovered: int
    broker_down: bool


def relay_notifications(*, limit=500) -> RelayReport:
    """Queue every pending notification that is due and not queued; take over abandoned claims."""
    now = timezone.now()
    recovered, to_send_again = _recover_stale_claims(now=now, limit=limit)
    queued, broker_down = [], False
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING)
            .filter(
                Q(dispatched_at__isnull=True, created_at__lte=now - DISPATCH_GRACE)
                | Q(dispatched_at__lte=now - REDISPATCH_AFTER)
                | Q(pk__in=to_send_again)
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for notification_id in due:
            # The row stays locked until commit: a worker picking the task up meanwhile waits
            # for the lock, then claims the row as usual.
            if not dispatch(notification_id=notification_id, during_outage=True):
                broker_down = True
                break
            queued.append(notification_id)
    report = RelayReport(
        queued=len(queued), waiting=len(due) - len(queued), recovered=recovered, broker_down=broker_down
    )
    if due:
        logger.info("notification relay: %s", report)
    return report


def _recover_stale_claims(*, now, limit) -> tuple[int, list[int]]:
    """Settle claims whose worker is gone; returns how many, and the ids to send again now."""
    recovered, to_send_again = 0, []
    with transaction.atomic():
        stale = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.SENDING, claimed_at__lt=now - claim_timeout())
            .order_by("pk")[:limit]
        )
        for notification in stale:
            if _recover_abandoned_claim(notification):
                notification.status = NotificationStatus.PENDING
                notification.claim_token = ""
                notification.claimed_at = None
                notification.send_started_at = None
                notification.dispatched_at = None
                notification.save(
                    update_fields=["status", "claim_token", "claimed_at", "send_started_at", "dispatched_at"]
                )
                to_send_again.append(notification.pk)
            recovered += 1
    return recovered, to_send_again


# --- managers' decisions ----------------------------------------------------------------------


def resend_notifications(*, notifications, by) -> int:
    """Send failed or unconfirmed notifications again, for the stores `by` manages only.

    A fresh set of tries; the previous error stays on record until the e-mail goes out.
    Returns how many were queued again; sent and pending ones are left alone.
    """
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(pk__in=[notification.pk for notification in notifications])
            .filter(status__in=(NotificationStatus.FAILED, NotificationStatus.UNCONFIRMED))
            .filter(order__store__in=Store.objects.managed_by(by).values("pk"))
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING,
            attempts=0,
            claim_token="",
            claimed_at=None,
            send_started_at=None,
            dispatched_at=None,
        )
        for notification_id in ids:
            transaction.on_commit(partial(dispatch, notification_id=notification_id))
    return len(ids)


def confirm_notifications_sent(*, notifications, by) -> int:
    """A manager checked with the shopper: unconfirmed e-mails did arrive. Returns how many."""
    with transaction.atomic():
        return (
            Notification.objects.filter(pk__in=[notification.pk for notification in notifications])
            .filter(status=NotificationStatus.UNCONFIRMED)
            .filter(order__store__in=Store.objects.managed_by(by).values("pk"))
            .update(status=NotificationStatus.SENT, sent_at=timezone.now(), claim_token="", claimed_at=None)
        )


# --- the messages -----------------------------------------------------------------------------


def build_message(notification) -> EmailMessage:
    builder = MESSAGE_BUILDERS.get(notification.kind)
    if builder is None:
        raise LookupError(f"no e-mail is defined for notifications of kind {notification.kind!r}")
    message = builder(notification.order)
    message.to = [notification.recipient]
    # The same Message-ID on every try: the mail server can be asked about it, and mail clients
    # that deduplicate show a repeated message once.
    message.extra_headers["Message-ID"] = message_id_for(notification)
    return message


def message_id_for(notification) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notification-{notification.pk}-{notification.kind}@{domain}>"


@message_for(NotificationKind.READY_FOR_PICKUP)
def ready_for_pickup_email(order) -> EmailMultiAlternatives:
    store = order.store
    with translation.override(order.language):
        context = {
            "order": order,
            "store": store,
            "opening_hours": list(store.opening_hours.all()),
            "order_link": order.absolute_link(),
            "shop_name": settings.SHOP_NAME,
        }
        subject = _("Your order %(number)s is ready for pickup at %(store)s") % {
            "number": order.number,
            "store": store.name,
        }
        text = render_to_string("pickup/email/ready_for_pickup.txt", context)
        html = render_to_string("pickup/email/ready_for_pickup.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[order.contact_email])
    message.attach_alternative(html, "text/html")
    return message
