"""VAT inside VAT-inclusive prices: the rate per country and class, rounding per line, sums per rate."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import translation

from o2o_site.vat import VatNotConfigured, format_rate, vat_by_rate, vat_included, vat_rate


def test_the_rates_are_iceland_and_norway_by_class():
    assert vat_rate(country="IS", vat_class="standard") == Decimal(24)
    assert vat_rate(country="IS", vat_class="reduced") == Decimal(11)
    assert vat_rate(country="NO", vat_class="standard") == Decimal(25)
    assert vat_rate(country="no", vat_class="reduced") == Decimal(15)


def test_a_country_or_class_without_a_rate_is_refused_not_guessed():
    with pytest.raises(VatNotConfigured, match="'SE'"):
        vat_rate(country="SE", vat_class="standard")
    with pytest.raises(VatNotConfigured, match="'luxury'"):
        vat_rate(country="IS", vat_class="luxury")


def test_rates_come_from_settings(settings):
    settings.VAT_RATES = {**settings.VAT_RATES, "NO": {"standard": Decimal(25), "reduced": Decimal("15.5")}}
    assert vat_rate(country="NO", vat_class="reduced") == Decimal("15.5")


@pytest.mark.parametrize(
    ("amount", "rate", "currency", "vat"),
    [
        # ISK has no minor unit: whole krónur, half up (4990 × 24/124 = 965.81)
        (Decimal("4990"), Decimal(24), "ISK", Decimal("966")),
        (Decimal("1290"), Decimal(11), "ISK", Decimal("128")),  # 127.84
        (Decimal("62"), Decimal(24), "ISK", Decimal("12")),  # 12.0
        # NOK in øre: 399.90 × 25/125 = 79.98; 89.90 × 15/115 = 11.726…
        (Decimal("399.90"), Decimal(25), "NOK", Decimal("79.98")),
        (Decimal("89.90"), Decimal(15), "NOK", Decimal("11.73")),
        (Decimal("100"), Decimal(0), "NOK", Decimal("0.00")),
    ],
)
def test_the_vat_inside_a_price_is_rounded_to_the_currency(amount, rate, currency, vat):
    assert vat_included(amount, rate=rate, currency=currency) == vat


@dataclass
class Line:
    line_total: Decimal
    vat_rate: Decimal
    vat_amount: Decimal


def test_the_sum_per_rate_is_the_sum_of_the_lines_own_vat():
    # given lines each rounded on their own (per-line rounding)
    lines = [
        Line(Decimal("4990"), Decimal("24.00"), Decimal("966")),
        Line(Decimal("4990"), Decimal("24.00"), Decimal("966")),
        Line(Decimal("1290"), Decimal("11.00"), Decimal("128")),
    ]

    summary = vat_by_rate(lines)

    # then each rate adds up its own lines, highest rate first, and the totals add up exactly
    assert [(at.rate, at.gross, at.vat, at.net) for at in summary.rates] == [
        (Decimal(24), Decimal("9980"), Decimal("1932"), Decimal("8048")),
        (Decimal(11), Decimal("1290"), Decimal("128"), Decimal("1162")),
    ]
    assert (summary.gross, summary.vat, summary.net) == (Decimal("11270"), Decimal("2060"), Decimal("9210"))
    assert str(summary.rates[0].rate) == "24"  # one key per rate, printed plainly (not 2.4E+1)


def test_a_line_that_costs_nothing_adds_no_vat_rate():
    # given food at the reduced rate and a delivery fee at the standard rate, waived by a coupon
    lines = [
        Line(Decimal("1290"), Decimal("11.00"), Decimal("128")),
        Line(Decimal("0"), Decimal("24.00"), Decimal("0")),
    ]
    # then only the food's rate is listed: no "of which VAT 24% ISK 0"
    assert [at.rate for at in vat_by_rate(lines).rates] == [Decimal(11)]
    # and an order that costs nothing lists none
    assert vat_by_rate([Line(Decimal("0"), Decimal("24.00"), Decimal("0"))]).rates == ()


def test_a_rate_is_written_as_each_language_writes_per_cent():
    with translation.override("is"):
        assert format_rate(Decimal("24.00")) == "24%"
    with translation.override("nb"):
        assert format_rate(Decimal("15.50")) == "15,5\u00a0%"
    assert format_rate(Decimal("10.00"), language="en") == "10%"
