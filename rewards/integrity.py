"""Reconciling the rewards ledger (read-only), part of `manage.py check_integrity`
(O2O_INTEGRITY_CHECKS): each member's balance is the sum of her entries, and each entry's
`balance_after` is the running sum up to it. Two queries whatever the number of members."""

from decimal import Decimal

from django.db.models import Sum

from .models import RewardAccount, RewardEntry


def check_rewards(report) -> None:
    sums = dict(RewardEntry.objects.values("account").annotate(total=Sum("points")).values_list("account", "total"))
    for pk, number, balance in RewardAccount.objects.values_list("pk", "number", "balance"):
        if sums.get(pk, Decimal(0)) != balance:
            report.problems.append(
                f"rewards member {number}: balance {balance} but the entries add up to {sums.get(pk, Decimal(0))}"
            )
    running: dict[int, Decimal] = {}
    for account_id, points, after, pk in RewardEntry.objects.order_by("account", "pk").values_list(
        "account", "points", "balance_after", "pk"
    ):
        running[account_id] = running.get(account_id, Decimal(0)) + points
        if running[account_id] != after:
            report.problems.append(
                f"rewards entry {pk}: balance after {after}, the running sum is {running[account_id]}"
            )
            running[account_id] = after
