"""The ledger's rules: earning when the goods are handed over, at the till and from the till's
file; redeeming; reversing on a return and a cancellation; every refusal writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from o2o_site.csv_import import ImportRejected
from orders.models import CancelReason
from orders.services import cancel_order
from payment.models import RefundReason
from payment.services import refund_order
from returns.services import LineToReturn, receive_return
from rewards import expiry, services
from rewards.integrity import check_rewards
from rewards.models import EntryKind, ExpiryNotice, RewardAccount, RewardEntry
from stores.tests.factories import StoreFactory

from .conftest import collect, line_of

pytestmark = pytest.mark.django_db


class Report:
    def __init__(self):
        self.problems = []


def ledger_is_consistent():
    report = Report()
    check_rewards(report)
    return report.problems == []


def test_a_customer_joins_once_with_a_ten_digit_luhn_number(anna):
    # when Anna joins, then tries again
    account = services.join(email="", user=anna)
    with pytest.raises(services.AlreadyMember):
        services.join(email="", user=anna)

    # then she has one account, a ten-digit number whose check digit holds, and a zero balance
    assert RewardAccount.objects.count() == 1
    assert services.is_member_number(account.number) and len(account.number) == 10
    assert account.balance == 0 and account.email == "anna@example.com"
    # and a number with one digit changed is not a member number
    wrong = account.number[:-1] + str((int(account.number[-1]) + 1) % 10)
    with pytest.raises(services.RewardRefused, match="not a member number"):
        services.find_member(wrong)
    # and staff may type it as the member page groups it, or with dashes (a fresh-eyes tester's "3117 9226 03")
    number = account.number
    for typed in (f"{number[:4]} {number[4:8]} {number[8:]}", f" {number[:5]}-{number[5:]} ", number):
        assert services.find_member(typed) == account


def test_a_guest_joins_with_the_link_sent_to_her_address(db):
    token = services.join_token(email="Gudrun@Example.is", language="is")
    account = services.join_with_token(token)
    assert account.email == "gudrun@example.is" and account.language == "is" and account.user is None
    # the same link again is the same membership
    assert services.join_with_token(token) == account
    with pytest.raises(services.RewardRefused, match="not valid"):
        services.join_with_token(token + "x")


def test_an_online_order_earns_when_collected_never_when_placed(
    member, anna, order, pickup_manager, django_capture_on_commit_callbacks
):
    # given Anna's order of ISK 32,970, placed as her customer account
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    order.refresh_from_db()
    # placed: nothing earned, and asking for it is refused
    with pytest.raises(services.RewardRefused, match="earns no points"):
        services.earn_for_order(order=order)
    assert not RewardEntry.objects.exists()

    # when it is collected (the order_completed signal after commit)
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)

    # then she earned 5 % per line, rounded down: 1,249 (sweater 24,990) + 399 (mittens 7,980)
    entry = RewardEntry.objects.get()
    assert (entry.kind, entry.points, entry.order, entry.store) == (EntryKind.EARN, Decimal("1648"), order, order.store)
    assert entry.expires_at is not None
    member.refresh_from_db()
    assert member.balance == Decimal("1648")
    # and earning again changes nothing
    assert services.earn_for_order(order=order) == entry
    assert RewardEntry.objects.count() == 1 and ledger_is_consistent()


def test_a_guest_order_earns_for_the_member_who_verified_its_address(order, pickup_manager):
    account = services.join_with_token(services.join_token(email="ANNA@example.com", language="en"))
    collect(order, pickup_manager)
    entry = services.earn_for_order(order=order)
    assert entry.account == account and entry.points == Decimal("1648")


def test_a_cancelled_order_earns_no_reward_and_nothing_is_written(member, order):
    cancel_order(order=order, reason=CancelReason.SHOPPER)
    with pytest.raises(services.RewardRefused, match="earns no points while it is “Cancelled”"):
        services.earn_for_order(order=order)
    assert not RewardEntry.objects.exists()
    member.refresh_from_db()
    assert member.balance == 0


def test_a_till_purchase_earns_once_per_receipt(member, pickup_store, pickup_manager):
    # when staff record Anna's purchase of ISK 10,000 at the till
    entry = services.earn_in_store(
        account=member, store=pickup_store, till_receipt_number="T-1001", amount="10000", by=pickup_manager
    )
    assert (entry.points, entry.channel, entry.actor, entry.purchase_amount) == (
        Decimal("500"),
        "in_store",
        pickup_manager,
        Decimal("10000"),
    )
    # then the same receipt again is refused with a clear message, and nothing is written
    with pytest.raises(services.RewardRefused, match="Receipt T-1001 at Laugavegur has already earned points"):
        services.earn_in_store(
            account=member, store=pickup_store, till_receipt_number="T-1001", amount="10000", by=pickup_manager
        )
    member.refresh_from_db()
    assert member.balance == Decimal("500") and RewardEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "receipt", "message"),
    [
        ("0", "T-1", "more than zero"),
        ("-5", "T-1", "more than zero"),
        ("abc", "T-1", "“abc” is not an amount"),
        ("10.5", "T-1", "is not an amount in ISK, which has no decimals"),
        ("100", "", "is not a till receipt number"),
        ("100", "no digits", "is not a till receipt number"),
    ],
)
def test_bad_till_input_is_refused_and_writes_nothing(member, pickup_store, pickup_manager, amount, receipt, message):
    with pytest.raises(services.RewardRefused, match=message):
        services.earn_in_store(
            account=member, store=pickup_store, till_receipt_number=receipt, amount=amount, by=pickup_manager
        )
    assert not RewardEntry.objects.exists()


def test_a_redemption_beyond_the_balance_is_refused_and_writes_nothing(member, pickup_store, pickup_manager):
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-1", amount="10000", by=None)
    # when the till asks for 501 of her 500 points
    with pytest.raises(services.InsufficientPoints, match="Not enough points: the balance is ISK"):
        services.redeem_at_till(
            account=member, store=pickup_store, amount="501", till_receipt_number="T-2", by=pickup_manager
        )
    # then nothing moved
    member.refresh_from_db()
    assert member.balance == Decimal("500") and RewardEntry.objects.count() == 1
    # and 200 of them go through, once per receipt
    entry = services.redeem_at_till(
        account=member, store=pickup_store, amount="200", till_receipt_number="T-2", by=pickup_manager
    )
    assert (entry.kind, entry.points, entry.balance_after) == (EntryKind.REDEEM, Decimal("-200"), Decimal("300"))
    with pytest.raises(services.RewardRefused, match="already redeemed"):
        services.redeem_at_till(
            account=member, store=pickup_store, amount="100", till_receipt_number="T-2", by=pickup_manager
        )
    assert ledger_is_consistent()


def test_entries_are_append_only(member, pickup_store):
    entry = services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-1", amount="100", by=None)
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_the_tills_file_earns_for_every_row(member, pickup_store, pickup_manager):
    other = services.join(email="bjorn@example.com")
    data = (
        "member,store,receipt,amount\n"
        f"{member.number},{pickup_store.slug},T-10,2000\n"
        f"{other.number},{pickup_store.slug},T-11,4000\n"
    ).encode()
    entries = services.import_till_purchases(data=data, by=pickup_manager, stores=[pickup_store])
    assert [(entry.account, entry.points, entry.reason) for entry in entries] == [
        (member, Decimal("100"), "Imported from the till"),
        (other, Decimal("200"), "Imported from the till"),
    ]
    # the same file again: every row names its receipt, nothing is written
    with pytest.raises(ImportRejected) as rejected:
        services.import_till_purchases(data=data, by=pickup_manager, stores=[pickup_store])
    assert [error.line for error in rejected.value.errors] == [2, 3]
    assert "receipt T-10 at Laugavegur has already earned points" in str(rejected.value)
    assert RewardEntry.objects.count() == 2


def test_a_tills_file_with_a_bad_row_is_refused_whole(member, pickup_store, returns_store, pickup_manager):
    data = (
        "member,store,receipt,amount\n"
        f"{member.number},{pickup_store.slug},T-10,2000\n"
        f"1234567890,{pickup_store.slug},T-11,4000\n"
        f"{member.number},{returns_store.slug},T-12,4000\n"
        f"{member.number},{pickup_store.slug},T-10,abc\n"
    ).encode()
    with pytest.raises(ImportRejected) as rejected:
        services.import_till_purchases(data=data, by=pickup_manager, stores=[pickup_store])
    messages = [str(error) for error in rejected.value.errors]
    assert messages == [
        "line 3: no member has the number “1234567890”",
        "line 4: “kringlan” is not one of your stores".replace("kringlan", returns_store.slug),
        "line 5: The amount: “abc” is not an amount.",
        "line 5: receipt T-10 is also on line 2",
    ]
    assert not RewardEntry.objects.exists()


def test_a_return_reverses_what_its_lines_earned_in_proportion(
    member, anna, order, pickup_manager, returns_store, sigga, django_capture_on_commit_callbacks
):
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)
    mittens = line_of(order, "Lopi mittens")  # 2 units earned 399

    # when one pair of mittens comes back at Kringlan
    returned = receive_return(
        order=order,
        store=returns_store,
        lines=[LineToReturn(order_line_id=mittens.pk, quantity=1, reason="does_not_fit", resellable=1)],
        by=sigga,
    )
    # then half of what they earned is taken back (199.5, rounded half-up: 200), at Kringlan, by Sigga
    reverse = RewardEntry.objects.get(kind=EntryKind.REVERSE)
    assert (reverse.points, reverse.store, reverse.actor) == (Decimal("-200"), returns_store, sigga)
    assert returned.code in reverse.reason
    # and the second pair takes the rest, never more than the line earned
    receive_return(
        order=order,
        store=returns_store,
        lines=[LineToReturn(order_line_id=mittens.pk, quantity=1, reason="does_not_fit", resellable=1)],
        by=sigga,
    )
    taken = RewardEntry.objects.filter(kind=EntryKind.REVERSE).order_by("pk")
    assert [entry.points for entry in taken] == [Decimal("-200"), Decimal("-199")]
    member.refresh_from_db()
    assert member.balance == Decimal("1249") and ledger_is_consistent()


def test_a_return_after_the_points_were_spent_takes_no_more_than_the_balance(
    member, anna, order, pickup_manager, pickup_store, returns_store, sigga
):
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    collect(order, pickup_manager)
    services.earn_for_order(order=order)
    services.redeem_at_till(account=member, store=pickup_store, amount="1600", till_receipt_number="T-9", by=None)
    sweater = line_of(order, "Hekla lopapeysa")  # earned 1,249
    receive_return(
        order=order,
        store=returns_store,
        lines=[LineToReturn(order_line_id=sweater.pk, quantity=1, reason="faulty", damaged=1)],
        by=sigga,
    )
    reverse = RewardEntry.objects.get(kind=EntryKind.REVERSE)
    assert reverse.points == Decimal("-48") and "1,201 already spent" in reverse.reason.replace("\xa0", " ")
    member.refresh_from_db()
    assert member.balance == 0


def test_points_redeemed_online_come_back_when_the_order_is_cancelled(
    member, order, django_capture_on_commit_callbacks
):
    services.earn_in_store(account=member, store=order.store, till_receipt_number="T-1", amount="20000", by=None)
    sweater = line_of(order, "Hekla lopapeysa")
    redeem = services.reserve_for_order(account=member, order=order, shares={sweater.pk: Decimal("600")}, by=None)
    member.refresh_from_db()
    assert member.balance == Decimal("400") and services.redeemed_on(order) == Decimal("600")

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=CancelReason.SHOPPER)

    given = RewardEntry.objects.get(kind=EntryKind.REVERSE)
    assert (given.points, given.reverses, given.order) == (Decimal("600"), redeem, order)
    assert services.release_for_order(order=order) is None  # once
    member.refresh_from_db()
    assert member.balance == Decimal("1000") and ledger_is_consistent()


def test_points_are_shared_over_the_lines_by_value_adding_up_exactly():
    assert services.share_points(Decimal("1000"), {1: Decimal("24990"), 2: Decimal("7980")}) == {
        1: Decimal("758"),
        2: Decimal("242"),
    }
    assert services.share_points(Decimal("2"), {1: Decimal("1"), 2: Decimal("1"), 3: Decimal("1")}) == {
        1: Decimal("1"),
        2: Decimal("1"),
    }
    with pytest.raises(services.RewardRefused, match="At most ISK"):
        services.share_points(Decimal("32971"), {1: Decimal("24990"), 2: Decimal("7980")})


def test_a_return_gives_back_the_points_its_lines_redeemed(
    member, anna, order, pickup_manager, returns_store, sigga, django_capture_on_commit_callbacks
):
    # given Anna used 1,000 points on her order: 758 on the sweater, 242 on the mittens
    services.earn_in_store(account=member, store=order.store, till_receipt_number="T-1", amount="20000", by=None)
    sweater, mittens = order.lines.order_by("pk")
    shares = services.share_points(Decimal("1000"), {sweater.pk: sweater.line_total, mittens.pk: mittens.line_total})
    services.reserve_for_order(account=member, order=order, shares=shares, by=None)
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)

    # when the sweater and one pair of mittens come back
    receive_return(
        order=order,
        store=returns_store,
        lines=[
            LineToReturn(order_line_id=sweater.pk, quantity=1, reason="faulty", damaged=1),
            LineToReturn(order_line_id=mittens.pk, quantity=1, reason="faulty", damaged=1),
        ],
        by=sigga,
    )
    # then their share of the points used comes back (758 + 121), and what they earned goes
    give, take = RewardEntry.objects.filter(kind=EntryKind.REVERSE).order_by("pk")
    assert give.points == Decimal("879") and give.reverses.kind == EntryKind.REDEEM
    assert take.points == -(Decimal("1249") + Decimal("200")) and take.reverses.kind == EntryKind.EARN
    assert ledger_is_consistent()


def test_a_refund_of_lines_reverses_what_they_earned_and_redeemed_once(
    member, anna, order, pickup_manager, returns_store, sigga, django_capture_on_commit_callbacks
):
    # given Anna used 1,000 points on her order, collected it and earned on it (a fresh-eyes
    # tester: a fully refunded order kept its +49 points)
    services.earn_in_store(account=member, store=order.store, till_receipt_number="T-1", amount="20000", by=None)
    sweater, mittens = order.lines.order_by("pk")
    shares = services.share_points(Decimal("1000"), {sweater.pk: sweater.line_total, mittens.pk: mittens.line_total})
    redeem = services.reserve_for_order(account=member, order=order, shares=shares, by=None)
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)
    earn = RewardEntry.objects.get(order=order, kind=EntryKind.EARN)
    member.refresh_from_db()
    before = member.balance

    # when one pair of mittens comes back as a return (it reverses when received, and its refund
    # does not reverse again)
    receive_return(
        order=order,
        store=returns_store,
        lines=[LineToReturn(order_line_id=mittens.pk, quantity=1, reason="faulty", damaged=1)],
        by=sigga,
    )
    assert RewardEntry.objects.filter(kind=EntryKind.REVERSE).count() == 2
    # and a manager refunds ISK 300 as goodwill, then the sweater and the other pair as returned
    refund_order(order=order, reason=RefundReason.GOODWILL, amount=Decimal("300"), by=pickup_manager)
    assert RewardEntry.objects.filter(kind=EntryKind.REVERSE).count() == 2  # money, not goods
    refund_order(order=order, reason=RefundReason.RETURNED, lines={sweater.pk: 1, mittens.pk: 1}, by=pickup_manager)

    # then everything the order earned is taken back and every point it used given back, once
    taken = RewardEntry.objects.filter(reverses=earn).aggregate(points=Sum("points"))["points"]
    given = RewardEntry.objects.filter(reverses=redeem).aggregate(points=Sum("points"))["points"]
    assert (taken, given) == (-earn.points, -redeem.points)
    refund_entries = RewardEntry.objects.filter(kind=EntryKind.REVERSE).order_by("pk")[2:]
    assert len(refund_entries) == 2
    assert all(entry.actor_id == pickup_manager.pk and order.number in entry.reason for entry in refund_entries)
    member.refresh_from_db()
    assert member.balance == before - earn.points - redeem.points and ledger_is_consistent()


def test_points_expire_after_the_shops_period_with_a_notice_a_month_before(member, pickup_store, settings):
    settings.REWARDS_POINTS_VALID_DAYS = 365
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-1", amount="10000", by=None)
    services.redeem_at_till(account=member, store=pickup_store, amount="100", till_receipt_number="T-2", by=None)
    earned_at = RewardEntry.objects.get(kind=EntryKind.EARN).created_at

    # a month and a day before: nothing; 29 days before: one notice for the 400 left, e-mailed once
    assert expiry.run_daily(now=earned_at + datetime.timedelta(days=365 - 31))["notices"] == 0
    for _run in range(2):
        expiry.run_daily(now=earned_at + datetime.timedelta(days=365 - 29))
    notice = ExpiryNotice.objects.get()
    assert notice.points == Decimal("400") and notice.sent_at is not None
    assert len(mail.outbox) == 1 and "400" in mail.outbox[0].body and member.number in mail.outbox[0].body

    # when the day comes (twice): the 400 expire, once
    for _run in range(2):
        expiry.run_daily(now=earned_at + datetime.timedelta(days=365, seconds=1))
    expired = RewardEntry.objects.get(kind=EntryKind.EXPIRE)
    assert (expired.points, expired.channel) == (Decimal("-400"), "shop")
    member.refresh_from_db()
    assert member.balance == 0 and ledger_is_consistent()


def test_newer_points_outlive_older_ones(member, pickup_store, settings):
    settings.REWARDS_POINTS_VALID_DAYS = 365
    old = services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-1", amount="2000", by=None)
    RewardEntry.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-2", amount="4000", by=None)
    services.redeem_at_till(account=member, store=pickup_store, amount="30", till_receipt_number="T-3", by=None)
    # the 30 spent came from the oldest 100: 70 of them expire, the newer 200 stay
    entry = services.expire_points(account=member)
    assert entry.points == Decimal("-70")
    member.refresh_from_db()
    assert member.balance == Decimal("200")


def test_the_daily_job_earns_for_an_order_whose_signal_was_lost(member, anna, order, pickup_manager):
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    collect(order, pickup_manager)  # on_commit hooks do not run here: the signal is "lost"
    assert not RewardEntry.objects.exists()
    assert expiry.run_daily()["earned"] == 1
    assert RewardEntry.objects.get().points == Decimal("1648")


def test_a_store_of_another_chain_member_is_not_in_the_file(member, pickup_manager):
    elsewhere = StoreFactory(name="Akureyri")
    data = f"member,store,receipt,amount\n{member.number},{elsewhere.slug},T-1,100\n".encode()
    with pytest.raises(ImportRejected, match="is not one of your stores"):
        services.import_till_purchases(data=data, by=pickup_manager, stores=[])


def test_a_refunds_e_mail_tells_the_points_taken_back_and_those_spent_already(
    member, anna, order, pickup_manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna collected her order and earned on it, then spent all but ISK 100 of her points
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)
    earn = RewardEntry.objects.get(order=order, kind=EntryKind.EARN)
    member.refresh_from_db()
    services.redeem_at_till(
        account=member, store=order.store, amount=member.balance - 100, till_receipt_number="T-9", by=None
    )
    sweater = line_of(order, "Hekla lopapeysa")

    # when a manager refunds the faulty sweater (no return)
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, reason=RefundReason.FAULTY, lines={sweater.pk: 1}, by=pickup_manager)

    # then the refund's e-mail says the ISK 100 left were taken back, of what the sweater earned
    [entry] = RewardEntry.objects.filter(reverses=earn)
    assert entry.points == Decimal("-100")
    earned = Decimal(entry.reason_args["spent"]) + 100
    [sent] = [message for message in mailoutbox if "Your refund" in message.subject]
    assert "Reward points taken back: ISK\u00a0100" in sent.body
    assert f"of the ISK\u00a0{earned:,.0f} the refunded items earned; the rest was spent already" in sent.body
    assert "Reward points taken back" in sent.alternatives[0][0]


def test_a_refund_without_points_says_nothing_of_them(
    order, pickup_manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given a guest's order, collected: no member, no points
    with django_capture_on_commit_callbacks(execute=True):
        collect(order, pickup_manager)

    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, reason=RefundReason.GOODWILL, amount=Decimal("300"), by=pickup_manager)

    [sent] = [message for message in mailoutbox if "Your refund" in message.subject]
    assert "Reward points" not in sent.body
