"""The till's purchases, typed by staff or imported from the till's CSV file: amounts read the way
the till writes them (never a silent wrong amount), small purchases imported, errors on the file's
own lines, and each till receipt earning once whatever its case or spacing."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from o2o_site.csv_import import ImportRejected
from rewards import services
from rewards.models import EntryKind, RewardEntry

from .test_services import ledger_is_consistent

pytestmark = pytest.mark.django_db

HEADER = "member,store,receipt,amount\n"


def till_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def import_file(data, store, by):
    return services.import_till_purchases(data=data, by=by, stores=[store])


def test_amounts_with_grouping_separators_earn_on_the_whole_amount(member, pickup_store, pickup_manager):
    # given a till file (ISK) writing a hundred thousand krónur in each way tills write it
    number, slug = member.number, pickup_store.slug
    data = till_file(
        f'{number},{slug},T-1,"100,000"',
        f"{number},{slug},T-2,100.000",
        f"{number},{slug},T-3,100 000",
        f"{number},{slug},T-4,100\u00a0000",
        f'{number},{slug},T-5,"100.000,00"',
        f"{number},{slug},T-6,100000",
    )
    # when it is imported
    entries = import_file(data, pickup_store, pickup_manager)
    # then every row was a purchase of 100,000 and earned 5 % of it, 5,000
    assert [(entry.purchase_amount, entry.points) for entry in entries] == [(Decimal("100000"), Decimal("5000"))] * 6
    assert ledger_is_consistent()


def test_an_amount_that_is_not_one_amount_in_the_currency_is_a_bad_row(member, pickup_store, pickup_manager):
    number, slug = member.number, pickup_store.slug
    data = till_file(
        f"{number},{slug},T-1,2000",
        f'{number},{slug},T-2,"10,5"',  # half a króna: ISK has no decimals
        f"{number},{slug},T-3,1 00",  # a space that does not group thousands
        f"{number},{slug},T-4,1e3",
        f"{number},{slug},T-5,-400",
    )
    with pytest.raises(ImportRejected) as rejected:
        import_file(data, pickup_store, pickup_manager)
    assert [str(error) for error in rejected.value.errors] == [
        "line 3: The amount: “10,5” is not an amount in ISK, which has no decimals.",
        "line 4: The amount: “1 00” is not an amount.",
        "line 5: The amount: “1e3” is not an amount.",
        "line 6: The amount must be more than zero.",
    ]
    assert not RewardEntry.objects.exists()


@pytest.mark.parametrize(
    "currency, text, expected",
    [
        ("NOK", '"1 299,50"', Decimal("1299.50")),
        ("NOK", '"1.299,50"', Decimal("1299.50")),
        ("NOK", '"1,50"', Decimal("1.50")),
        ("NOK", '"100,000"', Decimal("100000")),
    ],
)
def test_a_norwegian_shops_file_reads_the_decimal_comma(
    settings, member, pickup_store, pickup_manager, currency, text, expected
):
    settings.SHOP_CURRENCY = currency
    [entry] = import_file(till_file(f"{member.number},{pickup_store.slug},T-1,{text}"), pickup_store, pickup_manager)
    assert entry.purchase_amount == expected


def test_a_small_purchase_imports_earning_nothing_and_its_receipt_is_kept(member, pickup_store, pickup_manager):
    # given a file whose second purchase, ISK 10, earns less than one point at 5 %
    number, slug = member.number, pickup_store.slug
    data = till_file(f"{number},{slug},T-1,2000", f"{number},{slug},T-2,10", f"{number},{slug},T-3,39")
    # when it is imported
    entries = import_file(data, pickup_store, pickup_manager)
    # then the whole file went in: 100 points, 0 (rounded down from 0.5), 1 (from 1.95)
    assert [(entry.till_receipt_number, entry.points) for entry in entries] == [
        ("T-1", Decimal("100")),
        ("T-2", Decimal("0")),
        ("T-3", Decimal("1")),
    ]
    member.refresh_from_db()
    assert member.balance == Decimal("101")
    # and the small purchase's receipt cannot earn later, at the till either
    with pytest.raises(services.RewardRefused, match="Receipt T-2 at .* has already earned points"):
        services.earn_in_store(account=member, store=pickup_store, till_receipt_number="t-2", amount="5000", by=None)
    assert ledger_is_consistent()


def test_errors_name_the_files_own_lines_blank_lines_and_quoted_line_breaks_counted(
    member, pickup_store, pickup_manager
):
    number, slug = member.number, pickup_store.slug
    text = (
        HEADER
        + f"{number},{slug},T-1,2000\n"  # line 2
        + "\n"  # line 3: blank, skipped by csv
        + f'{number},{slug},"T#2\nX",2000\n'  # lines 4-5: a bad receipt with a line break in it
        + f"{number},{slug},T-3,abc\n"  # line 6
    )
    with pytest.raises(ImportRejected) as rejected:
        import_file(text.encode(), pickup_store, pickup_manager)
    assert [error.line for error in rejected.value.errors] == [4, 6]


def test_a_receipt_typed_in_another_case_or_spacing_earns_once(member, pickup_store, pickup_manager):
    other = services.join(email="bjorn@example.com")
    # given receipt K2-000123 earned at the till, typed in lower case with spaces around it
    first = services.earn_in_store(
        account=member, store=pickup_store, till_receipt_number="  k2-000123 ", amount="1000", by=None
    )
    assert first.till_receipt_number == "K2-000123"
    # when it is typed again in capitals, or "R  45" and "r 45" (spaces collapsed)
    with pytest.raises(services.RewardRefused, match="Receipt K2-000123 at .* has already earned points"):
        services.earn_in_store(
            account=other, store=pickup_store, till_receipt_number="K2-000123", amount="1000", by=None
        )
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="R  45", amount="1000", by=None)
    with pytest.raises(services.RewardRefused, match="Receipt R 45 at"):
        services.earn_in_store(account=member, store=pickup_store, till_receipt_number="r 45", amount="1000", by=None)
    # and the till's file meets the same receipt in its own spelling, and twice within itself
    data = till_file(
        f"{other.number},{pickup_store.slug},k2-000123,1000",
        f"{other.number},{pickup_store.slug},T-9,1000",
        f"{other.number},{pickup_store.slug}, t-9 ,1000",
    )
    with pytest.raises(ImportRejected) as rejected:
        import_file(data, pickup_store, pickup_manager)
    assert [str(error) for error in rejected.value.errors] == [
        "line 2: receipt K2-000123 at Laugavegur has already earned points",
        "line 4: receipt T-9 is also on line 3",
    ]
    # redeeming compares receipts the same way
    services.redeem_at_till(account=member, store=pickup_store, amount="10", till_receipt_number="p-1", by=None)
    with pytest.raises(services.RewardRefused, match="Receipt P-1 at .* has already redeemed points"):
        services.redeem_at_till(account=member, store=pickup_store, amount="10", till_receipt_number=" P-1", by=None)
    assert RewardEntry.objects.filter(kind=EntryKind.EARN).count() == 2
    assert ledger_is_consistent()


def test_the_database_keeps_receipts_normalised(member, pickup_store):
    # the unique constraint compares stored receipts; the check makes every stored one normalised
    with pytest.raises(IntegrityError, match="reward_till_receipt_normalised"):
        RewardEntry.objects.create(
            account=member,
            kind=EntryKind.EARN,
            points=Decimal("1"),
            balance_after=Decimal("1"),
            channel="in_store",
            store=pickup_store,
            till_receipt_number="t-1",
        )
