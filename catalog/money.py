"""The one way a price becomes text, on pages, in e-mails and in the admin.

The currency is the shop's (settings.SHOP_CURRENCY) or the order's; how the number is written
follows the language the text is in (the active language, or `language=`):

    ISK in Icelandic   12.990 kr.        NOK in Norwegian   1 299,00 kr
    ISK in Norwegian   12 990 ISK        NOK in Icelandic   1.299,00 NOK
    ISK in English     ISK 12,990        NOK in English     NOK 1,299.00

A language's own currency gets its local symbol; any other currency is written with its ISO
code. The spaces are no-break spaces, so a price never wraps across two lines.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import translation

NBSP = "\u00a0"

# Digits after the decimal point in each currency's minor unit. Icelandic krónur have no
# minor unit in use (aurar were withdrawn in 2003); unknown currencies get two.
MINOR_UNIT_DIGITS = {"ISK": 0, "NOK": 2, "EUR": 2, "SEK": 2, "DKK": 2, "USD": 2, "GBP": 2}
DEFAULT_MINOR_UNIT_DIGITS = 2


@dataclass(frozen=True)
class NumberStyle:
    """How a language writes amounts of money."""

    thousands: str
    decimal_point: str
    minus: str
    # {amount} is the signed number, {code} the ISO code: for currencies other than `home`.
    foreign_pattern: str
    # The language's own currency and how it is written, e.g. ("ISK", "{amount} kr.").
    home: tuple[str, str] | None = None


NUMBER_STYLES = {
    "is": NumberStyle(
        thousands=".", decimal_point=",", minus="-", foreign_pattern="{amount}" + NBSP + "{code}",
        home=("ISK", "{amount}" + NBSP + "kr."),
    ),
    "nb": NumberStyle(
        thousands=NBSP, decimal_point=",", minus="\u2212", foreign_pattern="{amount}" + NBSP + "{code}",
        home=("NOK", "{amount}" + NBSP + "kr"),
    ),
    # English has no home currency here: always the ISO code in front, e.g. "ISK 12,990".
    "en": NumberStyle(thousands=",", decimal_point=".", minus="-", foreign_pattern="{code}" + NBSP + "{amount}"),
}
# Norwegian written without the variant ("no") is Bokmål for money purposes.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}


def minor_unit_digits(currency: str | None = None) -> int:
    return MINOR_UNIT_DIGITS.get(currency or settings.SHOP_CURRENCY, DEFAULT_MINOR_UNIT_DIGITS)


def round_to_minor_unit(amount: Decimal, currency: str | None = None) -> Decimal:
    """`amount` rounded half-up to the currency's smallest unit (whole krónur, øre)."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_unit_digits(currency)), rounding=ROUND_HALF_UP)


def number_style(language: str | None = None) -> NumberStyle:
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    base = code.split("-")[0].split("_")[0]
    base = LANGUAGE_ALIASES.get(base, base)
    return NUMBER_STYLES.get(base, NUMBER_STYLES["en"])


def _group(whole: str, separator: str) -> str:
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return separator.join(groups)


def format_money(amount, currency: str | None = None, *, language: str | None = None) -> str:
    """`amount` (Decimal, int or a numeric string) as a price in `currency` (default: the shop's),
    written the way `language` (default: the active language) writes money."""
    if amount is None or amount == "":
        return ""
    currency = (currency or settings.SHOP_CURRENCY).upper()
    style = number_style(language)
    digits = minor_unit_digits(currency)
    rounded = round_to_minor_unit(Decimal(amount), currency)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    number = _group(whole, style.thousands)
    if digits:
        number += style.decimal_point + fraction.ljust(digits, "0")
    negative = rounded < 0
    if style.home is not None and style.home[0] == currency:
        return style.home[1].format(amount=(style.minus if negative else "") + number)
    if style is NUMBER_STYLES["en"]:
        # English puts the sign before the code: -ISK 1,000
        return (style.minus if negative else "") + style.foreign_pattern.format(code=currency, amount=number)
    return style.foreign_pattern.format(code=currency, amount=(style.minus if negative else "") + number)
