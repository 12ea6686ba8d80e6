"""What beat's daily rewards job does (rewards.scheduled.rewards_daily), each step idempotent so
a run twice in a day, or after a missed day, does the right thing once.

1. Expire: every member with a credit past its expiry (REWARDS_POINTS_VALID_DAYS after it was
   credited) loses what is left of it (rewards.services.expire_points, spending oldest first).
2. Warn: a member whose points expire within REWARDS_EXPIRY_NOTICE_DAYS (a month by default) gets
   one e-mail per expiry day (ExpiryNotice, unique per member and day), sent by a task after commit.
3. Catch up: an order handed over, delivered or shipped in the last REWARDS_POINTS_VALID_DAYS that
   has a member and no earning earns now; a cancelled order whose redemption was not given back
   gives it back (the signals that do both after commit are not retried).
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services import COMPLETED_STATUSES

from . import services
from .emails import send_expiry_notice
from .models import EntryKind, ExpiryNotice, RewardAccount, RewardEntry

logger = logging.getLogger(__name__)


def run_daily(*, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    expired = [
        entry
        for account in _accounts_with_credits_due(now)
        if (entry := services.expire_points(account=account, now=now)) is not None
    ]
    notices = queue_expiry_notices(now=now)
    earned, released = catch_up(now=now)
    return {"expired": len(expired), "notices": len(notices), "earned": earned, "released": released}


def _accounts_with_credits_due(by: datetime.datetime):
    due = RewardEntry.objects.filter(account=OuterRef("pk"), points__gt=0, expires_at__lte=by)
    return RewardAccount.objects.filter(Exists(due), balance__gt=0).order_by("pk")


def queue_expiry_notices(*, now: datetime.datetime) -> list[ExpiryNotice]:
    """An ExpiryNotice for each member with points expiring within REWARDS_EXPIRY_NOTICE_DAYS that
    has none for that day yet, its e-mail queued after commit. Returns the notices written."""
    horizon = now + datetime.timedelta(days=settings.REWARDS_EXPIRY_NOTICE_DAYS)
    written = []
    for account in _accounts_with_credits_due(horizon):
        points = services.expiring(account, by=horizon)
        if points <= 0:
            continue
        first = RewardEntry.objects.filter(
            account=account, points__gt=0, expires_at__gt=now, expires_at__lte=horizon
        ).aggregate(first=Min("expires_at"))["first"]
        if first is None:
            continue
        with transaction.atomic():
            notice, created = ExpiryNotice.objects.get_or_create(
                account=account, expires_on=first.date(), defaults={"points": points}
            )
            if created:
                transaction.on_commit(partial(_queue_notice, notice.pk))
                written.append(notice)
    # A notice whose task was lost (a broker down) is queued again.
    for notice_id in ExpiryNotice.objects.filter(
        sent_at__isnull=True, created_at__lt=now - datetime.timedelta(hours=1)
    ).values_list("pk", flat=True):
        _queue_notice(notice_id)
    return written


def _queue_notice(notice_id: int) -> None:
    from .scheduled import send_expiry_notice as task  # noqa: PLC0415 — the task module imports this one

    task.delay(notice_id=notice_id)


def send_notice(*, notice_id: int) -> bool:
    """Send the notice if it is not sent yet and mark it sent; False when there was nothing to send."""
    with transaction.atomic():
        notice = ExpiryNotice.objects.select_for_update().select_related("account").filter(pk=notice_id).first()
        if notice is None or notice.sent_at is not None:
            return False
        send_expiry_notice(notice)
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def catch_up(*, now: datetime.datetime) -> tuple[int, int]:
    since = now - datetime.timedelta(days=settings.REWARDS_POINTS_VALID_DAYS)
    earned = Exists(RewardEntry.objects.filter(order=OuterRef("pk"), kind=EntryKind.EARN))
    members = Q(customer__rewards_account__isnull=False) | Exists(
        RewardAccount.objects.filter(email=OuterRef("contact_email"))
    )
    earned_now = 0
    for order in Order.objects.filter(members, status__in=COMPLETED_STATUSES, created_at__gte=since).exclude(earned):
        earned_now += services.earn_for_order(order=order) is not None
    given_back = RewardEntry.objects.filter(reverses=OuterRef("pk"), order=OuterRef("order"))
    released = 0
    for entry in (
        RewardEntry.objects.filter(kind=EntryKind.REDEEM, order__status=OrderStatus.CANCELLED)
        .exclude(Exists(given_back))
        .select_related("order")
    ):
        released += services.release_for_order(order=entry.order) is not None
    return earned_now, released
