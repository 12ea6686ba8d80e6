"""Redemptions at the same moment, on PostgreSQL with real threads: a checkout and two tills
after the same points. The account's row lock serves them one after another; the balance never
goes below zero and every refused one wrote nothing."""

from decimal import Decimal

import pytest

from payment.tests.test_races import run_together
from rewards import services
from rewards.models import EntryKind, RewardAccount, RewardEntry
from stores.tests.factories import StoreFactory

from .test_services import ledger_is_consistent

pytestmark = pytest.mark.postgres


def test_a_checkout_and_two_tills_redeeming_the_same_points_at_once_never_overdraw(
    require_postgres, transactional_db, member, order, pickup_store, pickup_manager
):
    # given Anna has 1,000 points; two tills (Laugavegur, Kringlan) and her checkout want 600 each
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="20000", by=None)
    kringlan = StoreFactory(name="Kringlan")
    sweater = order.lines.order_by("pk").first()

    def redeem(index):
        if index == 0:
            return services.reserve_for_order(account=member, order=order, shares={sweater.pk: Decimal("600")}, by=None)
        store = pickup_store if index == 1 else kringlan
        return services.redeem_at_till(
            account=member, store=store, amount="600", till_receipt_number=f"T-{index}", by=pickup_manager
        )

    # when all three ask at the same moment
    results = run_together(3, redeem)

    # then exactly one went through and two were refused for want of points
    assert sum(isinstance(result, RewardEntry) for result in results) == 1, results
    assert sum(isinstance(result, services.InsufficientPoints) for result in results) == 2, results
    account = RewardAccount.objects.get(pk=member.pk)
    assert account.balance == Decimal("400")
    assert RewardEntry.objects.filter(kind=EntryKind.REDEEM).count() == 1
    assert ledger_is_consistent()


def test_ten_small_redemptions_at_once_take_exactly_what_there_is(
    require_postgres, transactional_db, member, pickup_store, pickup_manager
):
    # given 500 points and ten tills each taking 70 at once
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="10000", by=None)

    results = run_together(
        10,
        lambda index: services.redeem_at_till(
            account=member, store=pickup_store, amount="70", till_receipt_number=f"T-{index + 1}", by=pickup_manager
        ),
    )

    # then seven went through (490) and three were refused; 10 points are left
    assert sum(isinstance(result, RewardEntry) for result in results) == 7, results
    assert RewardAccount.objects.get(pk=member.pk).balance == Decimal("10")
    assert sorted(RewardEntry.objects.filter(kind=EntryKind.REDEEM).values_list("balance_after", flat=True)) == [
        Decimal(n) for n in (10, 80, 150, 220, 290, 360, 430)
    ]
    assert ledger_is_consistent()


def test_two_imports_of_the_same_till_receipt_at_once_earn_once(
    require_postgres, transactional_db, member, pickup_store, pickup_manager
):
    other = services.join(email="bjorn@example.com")
    files = [
        f"member,store,receipt,amount\n{account.number},{pickup_store.slug},T-77,2000\n".encode()
        for account in (member, other)
    ]
    results = run_together(
        2, lambda index: services.import_till_purchases(data=files[index], by=pickup_manager, stores=[pickup_store])
    )
    assert sum(isinstance(result, list) for result in results) == 1, results
    assert RewardEntry.objects.filter(till_receipt_number="T-77").count() == 1
    assert ledger_is_consistent()


def test_two_tills_recording_one_receipt_in_two_spellings_at_once_earn_once(
    require_postgres, transactional_db, member, pickup_store
):
    # given two members of staff type the same receipt, one as the till prints it, one in lower
    # case with a stray space, at the same moment (for two members: only the constraint stops it)
    other = services.join(email="bjorn@example.com")
    spellings = [(member, "K2-000123"), (other, " k2-000123")]
    results = run_together(
        2,
        lambda index: services.earn_in_store(
            account=spellings[index][0],
            store=pickup_store,
            till_receipt_number=spellings[index][1],
            amount="2000",
            by=None,
        ),
    )
    # then one earned and the other was refused with the reason
    assert sum(isinstance(result, RewardEntry) for result in results) == 1, results
    assert [str(result) for result in results if isinstance(result, services.RewardRefused)] == [
        "Receipt K2-000123 at Laugavegur has already earned points."
    ]
    assert RewardEntry.objects.filter(till_receipt_number="K2-000123").count() == 1
    assert ledger_is_consistent()
