"""Reads for the member page and the till screen; the queries are decided here."""

from django.db.models import QuerySet

from .models import RewardAccount, RewardEntry

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
