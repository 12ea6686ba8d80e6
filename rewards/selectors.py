"""Reads for the member page and the till screen; the queries are decided here."""

from decimal import Decimal

from django.db.models import QuerySet

from orders.models import Order

from .models import EntryKind, EntryReason, RewardAccount, RewardEntry

HISTORY_LENGTH = 50


def history(account: RewardAccount, *, limit: int = HISTORY_LENGTH) -> list[RewardEntry]:
    """The member's latest entries, newest first, with their store and order (one query)."""
    return list(
        RewardEntry.objects.filter(account=account)
        .select_related("store", "order")
        .order_by("-created_at", "-pk")[:limit]
    )


def member_of(user) -> RewardAccount | None:
    if not user.is_authenticated:
        return None
    return RewardAccount.objects.filter(user=user).first()


def accounts_with_user() -> QuerySet[RewardAccount]:
    return RewardAccount.objects.select_related("user")


def points_of_refund(order: Order, refund_id: int) -> dict | None:
    """What a refund without a return did to the member's points (rewards.services.reverse_for_refund),
    for its e-mail (O2O_REFUND_EMAIL_POINTS): {"taken_back", "spent", "earned", "given_back"} as
    amounts in the shop's currency (`earned`: what the refunded items earned, `spent`: the part of
    it spent already, so not taken back), or None when the refund changed no points."""
    entries = RewardEntry.objects.filter(
        order=order, kind=EntryKind.REVERSE, reason_code=EntryReason.REFUNDED, reason_args__refund=refund_id
    ).only("points", "reason_args")
    taken_back = spent = given_back = Decimal(0)
    found = False
    for entry in entries:
        found = True
        if entry.points < 0:
            taken_back -= entry.points
            spent += Decimal(entry.reason_args.get("spent") or 0)
        else:
            given_back += entry.points
    if not found:
        return None
    return {"taken_back": taken_back, "spent": spent, "earned": taken_back + spent, "given_back": given_back}
