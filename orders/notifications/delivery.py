"""Delivering one notification, at most once per (order, kind).

A delivery first *claims* the row in a committed transaction (status "sending", a claim token,
claimed_at, one more attempt); then, in another committed write, records `send_started_at`; then
hands the message to the mail server; then marks the row sent, only if it still holds the claim,
and puts the e-mail on the order's timeline in the same transaction. A duplicate task finds the
row claimed or sent and does nothing. A worker that dies (SIGKILL, OOM, a lost machine) leaves a
"sending" row behind; the same task delivered again (acks_late, reject_on_worker_lost) recognises
its own claim, and the relay takes over claims older than NOTIFICATION_CLAIM_TIMEOUT (longer than
the task's hard time limit, so their worker is certainly gone). Recovery then decides:

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

Failures. An e-mail backend error releases the claim with the error on record and raises
DeliveryFailed with the delay before the next try (exponential backoff with jitter, capped); the
Celery task retries itself with that countdown. After NOTIFICATION_MAX_ATTEMPTS tries the row is
"failed", visible to managers, who can resend it (orders.notifications.decisions).
"""

import datetime
import functools
import logging
import random
import uuid

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Notification, NotificationKind, NotificationStatus, OrderActivity, OrderEvent

from .messages import build_message, message_id_for

logger = logging.getLogger(__name__)

ERROR_LENGTH = 2000

# Finished states: nothing more happens to the row without a person.
SETTLED = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.UNCONFIRMED)


class DeliveryFailed(Exception):
    """The e-mail could not be built or sent; `retry_in` seconds until the next try, None if none is left."""

    def __init__(self, error: Exception, *, retry_in: float | None):
        super().__init__(str(error))
        self.retry_in = retry_in


def deliver_notification(*, notification_id: int, claim_token: str | None = None) -> bool:
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
    with transaction.atomic():
        marked = Notification.objects.filter(
            pk=notification.pk, claim_token=token, status=NotificationStatus.SENDING
        ).update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
        if marked:
            add_to_timeline(notification)
    if not marked:
        logger.error("notification %s was sent but its claim had been taken over", notification.pk)
    return True


def add_to_timeline(notification: Notification) -> OrderEvent:
    """The order's history shows each e-mail sent ("E-mail sent: Order received"), noted in the
    order's language like every history note. Called once, where the row becomes sent."""
    order = notification.order
    with translation.override(order.language):
        note = str(NotificationKind(notification.kind).label)
    return OrderEvent.objects.create(
        order=order, kind=OrderActivity.EMAILED, from_status=order.status, to_status=order.status, note=note
    )


def emailed_note_shown(note: str) -> str:
    """An "E-mail sent" note (add_to_timeline: the e-mail's name in the order's language) in the
    reader's language: a page read in another language than the order's shows "E-mail sent: Order
    received", not "Tölvupóstur sendur: Pöntun móttekin". A note that names no kind is kept."""
    kind = _kinds_by_label().get(note)
    return str(NotificationKind(kind).label) if kind else note


@functools.cache
def _kinds_by_label() -> dict[str, str]:
    """{an e-mail kind's name in any of the shop's languages: the kind}, read once per process."""
    found = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found.update({str(label): value for value, label in NotificationKind.choices})
    return found


def _claim(*, notification_id: int, token: str) -> Notification | None:
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("order__store")
            .prefetch_related("order__store__opening_hours", "order__lines")
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
            if not recover_abandoned_claim(notification):
                return None
        notification.status = NotificationStatus.SENDING
        notification.claim_token = token
        notification.claimed_at = now
        notification.send_started_at = None
        notification.attempts += 1
        notification.save(update_fields=["status", "claim_token", "claimed_at", "send_started_at", "attempts"])
    return notification


def recover_abandoned_claim(notification: Notification) -> bool:
    """Settle a "sending" row whose worker is gone. Returns True when it must be sent (again).

    Called with the row locked (and its order loaded); saves the row unless it is to be sent
    again (the caller claims it, or puts it back to pending).
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
        add_to_timeline(notification)
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


def _mail_server_outcome(notification: Notification) -> bool | None:
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


def _release_claim(notification: Notification, *, token: str, error: Exception, retry: bool) -> float | None:
    """Give the row back after a failed try. Returns seconds until the retry, or None when failed.

    A row waiting for its retry is pending with `dispatched_at` in the future, so the relay leaves
    it to the retrying task until well after it is due.
    """
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


def retry_delay(*, attempt: int) -> float:
    """Seconds before try `attempt + 1`: doubling from NOTIFICATION_RETRY_BACKOFF, capped, ±25 %."""
    base = settings.NOTIFICATION_RETRY_BACKOFF * 2 ** max(attempt - 1, 0)
    return min(base, settings.NOTIFICATION_RETRY_BACKOFF_MAX) * random.uniform(0.75, 1.25)


def claim_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT)
