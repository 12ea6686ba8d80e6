"""VAT: the rate a sale carries, the VAT inside a VAT-inclusive amount, and the sum per rate.

Prices in the shop include VAT. Which rate applies is decided by two things:

- the product's VAT class (catalog.models.VatClass: standard, reduced for food and drink), and
- the country of the store that sells it (Order.store.country, "IS" or "NO"): the sale is made,
  and the goods are handed over, at that store, so that country's VAT applies (a click-and-collect
  sale is a domestic sale of the store's country; we never ship across a border).

The rates per country are settings.VAT_RATES (with the laws they come from, and how to override
them by environment). An order line snapshots its rate and its VAT amount when the order is
placed (orders.services.create_order), so a later change of rate or class never rewrites an
order or a receipt.

Rounding, one rule everywhere: VAT is worked out per line, from the line's VAT-inclusive total,
and rounded half-up to the currency's minor unit (whole krónur in ISK, øre in NOK):

    vat = round(line_total × rate / (100 + rate))

The VAT of an order, of a receipt, or of one rate on either is the sum of its lines' VAT, so
every figure shown adds up exactly; the amount without VAT is the total minus the VAT.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from babel.numbers import format_percent
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .money import money_locale, round_to_minor_unit

HUNDRED = Decimal(100)


class VatNotConfigured(ImproperlyConfigured):
    """settings.VAT_RATES has no rate for a country, or for a VAT class in it."""


def vat_rate(*, country: str, vat_class: str) -> Decimal:
    """The VAT rate in per cent (Decimal("24")) for a product of `vat_class` sold in `country`."""
    rates = settings.VAT_RATES.get((country or "").upper())
    if rates is None:
        raise VatNotConfigured(f"VAT_RATES has no rates for country {country!r} (a store's country)")
    try:
        return Decimal(rates[vat_class])
    except KeyError:
        raise VatNotConfigured(f"VAT_RATES[{country!r}] has no rate for VAT class {vat_class!r}") from None


def vat_included(amount: Decimal, *, rate: Decimal, currency: str) -> Decimal:
    """The VAT inside the VAT-inclusive `amount` at `rate` per cent, rounded half-up to the
    currency's minor unit: 4990 ISK at 24 % holds 966 ISK of VAT."""
    if not rate:
        return round_to_minor_unit(Decimal(0), currency)
    return round_to_minor_unit(Decimal(amount) * rate / (HUNDRED + rate), currency)


def plain_rate(rate: Decimal | int | str) -> Decimal:
    """24.00 → 24, 15.50 → 15.5: one key per rate, however many decimals were stored."""
    rate = Decimal(rate)
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def format_rate(rate: Decimal | int | str, *, language: str | None = None) -> str:
    """A rate as the language writes per cent (CLDR through Babel): 24% in Icelandic and English,
    25 % in Bokmål (a no-break space), 15,5 % with a decimal comma."""
    return format_percent(plain_rate(rate) / HUNDRED, locale=money_locale(language), decimal_quantization=False)


class TaxedLine(Protocol):
    """An order line or a receipt line: its VAT-inclusive total, its rate and its VAT."""

    line_total: Decimal
    vat_rate: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class VatAtRate:
    """One rate's share of an order or a receipt."""

    rate: Decimal
    gross: Decimal  # including VAT
    vat: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


@dataclass(frozen=True)
class VatSummary:
    rates: tuple[VatAtRate, ...]

    @property
    def vat(self) -> Decimal:
        return sum((at_rate.vat for at_rate in self.rates), Decimal(0))

    @property
    def gross(self) -> Decimal:
        return sum((at_rate.gross for at_rate in self.rates), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


def vat_by_rate(lines: Iterable[TaxedLine]) -> VatSummary:
    """The lines' totals and VAT per rate, highest rate first: sums of the lines' own figures.

    A line that costs nothing (a delivery fee waived, goods a coupon covers in full) carries no
    VAT and adds no rate: no "of which VAT 24 % ISK 0" under a total."""
    gross: dict[Decimal, Decimal] = {}
    vat: dict[Decimal, Decimal] = {}
    for line in lines:
        if not line.line_total and not line.vat_amount:
            continue
        rate = plain_rate(line.vat_rate)
        gross[rate] = gross.get(rate, Decimal(0)) + line.line_total
        vat[rate] = vat.get(rate, Decimal(0)) + line.vat_amount
    return VatSummary(
        rates=tuple(VatAtRate(rate=rate, gross=gross[rate], vat=vat[rate]) for rate in sorted(gross, reverse=True))
    )
