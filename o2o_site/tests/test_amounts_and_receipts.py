"""Reading amounts as tills and staff write them (o2o_site.money.parse_amount), a CSV file's own
line numbers (o2o_site.csv_import.read_csv), and till receipt numbers (o2o_site.till_receipts)."""

from decimal import Decimal

import pytest
from django.utils import translation

from o2o_site.csv_import import read_csv
from o2o_site.money import AmountUnclear, parse_amount
from o2o_site.till_receipts import is_till_receipt, normalise_till_receipt

HUNDRED_THOUSAND = [
    "100000",
    "100,000",
    "100.000",
    "100 000",
    "100\u00a0000",
    "100\u202f000",
    "100.000,00",
    "１００，０００",
]


@pytest.mark.parametrize("currency", ["ISK", "NOK"])
@pytest.mark.parametrize("text", HUNDRED_THOUSAND)
def test_a_hundred_thousand_however_it_is_grouped(currency, text):
    # no till writes three decimals of krónur or kroner, so "100,000" groups thousands
    assert parse_amount(text, currency) == Decimal("100000")


@pytest.mark.parametrize(
    "text, expected",
    [("1.234,50", "1234.50"), ("1,234.50", "1234.50"), ("1 234,50", "1234.50"), ("1,5", "1.50"), ("0,05", "0.05")],
)
def test_decimals_in_norwegian_kroner_with_a_comma_or_a_point(text, expected):
    assert parse_amount(text, "NOK") == Decimal(expected)


@pytest.mark.parametrize(
    "text, message",
    [
        ("10,5", "“10,5” is not an amount in ISK, which has no decimals."),
        ("1.234,50", "is not an amount in ISK"),
        ("1 00", "“1 00” is not an amount."),
        ("1,00,000", "is not an amount"),
        ("1e3", "is not an amount"),
        ("12 kr", "is not an amount"),
        ("", "is not an amount"),
        ("٣٠", "is not an amount"),
    ],
)
def test_what_is_not_one_amount_in_krónur_is_refused(text, message):
    with pytest.raises(AmountUnclear, match=message):
        parse_amount(text, "ISK")


@pytest.mark.parametrize("text", ["1,500", "1.500", "100,000"])
def test_an_amount_two_conventions_read_differently_is_refused_not_guessed(text):
    # the Kuwaiti dinar has three decimals: "1,500" is 1.5 or 1500, and nothing says which
    with pytest.raises(AmountUnclear, match="could be"):
        parse_amount(text, "KWD")


def test_the_reason_is_in_the_active_language():
    with translation.override("is"), pytest.raises(AmountUnclear) as unclear:
        parse_amount("abc", "ISK")
    assert "abc" in str(unclear.value) and "is not an amount" not in str(unclear.value)


def test_rows_carry_the_line_they_start_on():
    text = 'a,b\n1,2\n\n3,"x\ny"\r\n4,5\n'
    rows = read_csv(text, required=["a"])
    assert [(row.line, row["a"]) for row in rows] == [(2, "1"), (4, "3"), (6, "4")]


@pytest.mark.parametrize(
    "typed, stored",
    [(" k2-000123 ", "K2-000123"), ("r  45", "R 45"), ("R\u00a045", "R 45"), ("ｔ－１", "T-1"), ("", "")],
)
def test_receipt_numbers_are_stored_in_one_spelling(typed, stored):
    assert normalise_till_receipt(typed) == stored


@pytest.mark.parametrize("number, valid", [("K2-000123", True), ("2026/88412", True), ("ABC", False), ("-1", False)])
def test_what_a_receipt_number_can_be(number, valid):
    assert is_till_receipt(number) is valid
