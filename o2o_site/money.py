"""Money: the one way a price becomes text (pages, e-mails, the admin), and what a price may be.

The currency is the shop's (settings.SHOP_CURRENCY) or the order's; how the number is written
follows the language the text is in (the active language, or `language=`):

    ISK in Icelandic   12.990 kr.        NOK in Norwegian   1 299,00 kr
    ISK in Norwegian   12 990 ISK        NOK in Icelandic   1.299,00 NOK
    ISK in English     ISK 12,990        NOK in English     NOK 1,299.00

Separators, patterns, local symbols, minus signs and each currency's minor unit (ISK has none,
NOK has øre) come from CLDR through Babel. Our own choices on top of CLDR, made in `_pattern`:
a language's own currency gets its local symbol and any other currency its ISO code (so English,
which has no home currency here, always writes the code); and two CLDR rules Babel leaves out are
applied: an ISO code is kept off the digits by a no-break space (CLDR's currency spacing); and a
negative amount carries the minus sign U+2212 in every language (CLDR's Bokmål one; English and
Icelandic get a hyphen-minus from CLDR, which made "-ISK 333" beside "−ISK 333"). An amount taken
off (a discount, a refund) is written as the negative amount (`format_money(-amount)`, the
template filter `money_off`), never a sign put before a formatted price by hand. The spaces are
no-break spaces, so a price never wraps across two lines.

A price must be an amount the currency can be paid in: `validate_price` refuses 100.50 ISK. Amounts
are rounded half-up to the minor unit (`round_to_minor_unit`) before anything is shown or summed,
so the lines shown always add up to the total shown. An amount or a number of rewards points that
someone types into a form (`AmountField`, `PointsField`) is refused with `too_many_decimals` when it
is finer than the minor unit ("100.5" in ISK), in words that name the currency.
"""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import (
    NumberFormatError,
    NumberPattern,
    get_currency_precision,
    get_territory_currencies,
    parse_decimal,
    parse_pattern,
)
from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext, ngettext

NBSP = "\u00a0"
# The sign of a negative amount in every language: the true minus sign (U+2212), never the
# hyphen-minus CLDR gives English and Icelandic, so a refund, a discount or a reversed entry reads
# the same in every language and on every page (the shop's choice on top of CLDR, see _pattern).
MINUS = "\u2212"

# The CLDR locale whose conventions each language writes money in. A language not listed writes
# it the English way; Norwegian without a variant (no) and Nynorsk are written as Bokmål. A locale
# with a territory has a home currency (that territory's), shown with its local symbol.
LOCALES = {"is": "is_IS", "nb": "nb_NO", "no": "nb_NO", "nn": "nb_NO", "en": "en"}
DEFAULT_LOCALE = "en"


def minor_unit_digits(currency: str | None = None) -> int:
    """Digits after the decimal point in the currency's minor unit (CLDR): ISK 0, NOK 2."""
    return get_currency_precision((currency or settings.SHOP_CURRENCY).upper())


def round_to_minor_unit(amount: Decimal | int | str, currency: str | None = None) -> Decimal:
    """`amount` rounded half-up to the currency's smallest unit (whole krónur, øre)."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_unit_digits(currency)), rounding=ROUND_HALF_UP)


def is_representable(amount: Decimal | int | str, currency: str | None = None) -> bool:
    """Whether `amount` can be paid in the currency: no part smaller than its minor unit."""
    amount = Decimal(amount)
    return amount.is_finite() and amount == round_to_minor_unit(amount, currency)


def validate_price(amount: Decimal | None) -> None:
    """Model and form validator: `amount` is a price the shop's currency can be paid in.

    100.50 is refused in ISK (no minor unit: aurar were withdrawn in 2003) and 89.905 in NOK.
    Raises ValidationError (code "negative" below zero, "unrepresentable" for a part smaller than
    the minor unit) with a message in the active language.
    """
    if amount is None or not Decimal(amount).is_finite():
        return  # "required" and "not a number" are the field's own errors
    if Decimal(amount) < 0:
        raise ValidationError(gettext("A price cannot be negative."), code="negative")
    currency = settings.SHOP_CURRENCY.upper()
    if is_representable(amount, currency):
        return
    digits = minor_unit_digits(currency)
    if digits == 0:
        message = gettext(
            "%(amount)s is not a price in %(currency)s: the currency has no minor unit, so prices are whole numbers."
        )
    else:
        message = ngettext(
            "%(amount)s is not a price in %(currency)s: prices have at most %(digits)s decimal.",
            "%(amount)s is not a price in %(currency)s: prices have at most %(digits)s decimals.",
            digits,
        )
    raise ValidationError(
        message, code="unrepresentable", params={"amount": amount, "currency": currency, "digits": digits}
    )


def too_many_decimals(currency: str | None = None, *, points: bool = False) -> str:
    """Why an amount (or `points`: rewards points, which are money in the shop's currency) with a
    part smaller than the currency's minor unit is refused, in the active language: in ISK
    "Amounts in ISK have no decimals: enter a whole number."; in NOK at most two decimals."""
    currency = (currency or settings.SHOP_CURRENCY).upper()
    digits = minor_unit_digits(currency)
    if digits == 0 and points:
        message = gettext("Points are counted in %(currency)s, which has no decimals: enter a whole number of points.")
    elif digits == 0:
        message = gettext("Amounts in %(currency)s have no decimals: enter a whole number.")
    elif points:
        message = ngettext(
            "Points are counted in %(currency)s: at most %(digits)s decimal.",
            "Points are counted in %(currency)s: at most %(digits)s decimals.",
            digits,
        )
    else:
        message = ngettext(
            "Amounts in %(currency)s have at most %(digits)s decimal.",
            "Amounts in %(currency)s have at most %(digits)s decimals.",
            digits,
        )
    return message % {"currency": currency, "digits": digits}


def money_locale(language: str | None = None) -> Locale:
    """The CLDR locale for writing money in `language` (default: the active language)."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    base = code.split("-")[0].split("_")[0]
    return _locale(LOCALES.get(base, DEFAULT_LOCALE))


@lru_cache(maxsize=8)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


def _kept_apart(symbol_edge: str) -> bool:
    # CLDR currencySpacing: a symbol whose character next to the digits is neither a symbol
    # (€, $) nor a space gets a no-break space between it and the number.
    return not unicodedata.category(symbol_edge).startswith(("S", "Z"))


@lru_cache(maxsize=64)
def _pattern(locale: Locale, currency: str) -> NumberPattern:
    home = get_territory_currencies(locale.territory)[:1] if locale.territory else []
    positive = locale.currency_formats["standard"].pattern.split(";")[0]
    if currency in home:
        symbol = locale.currency_symbols.get(currency, currency)
    else:
        symbol = currency
        positive = positive.replace("¤", "¤¤")  # ¤¤: the ISO code
    if "¤#" in positive or "¤0" in positive:
        if _kept_apart(symbol[-1]):
            positive = positive.replace("¤#", "¤" + NBSP + "#").replace("¤0", "¤" + NBSP + "0")
    elif ("0¤" in positive) and _kept_apart(symbol[0]):
        positive = positive.replace("0¤", "0" + NBSP + "¤")
    return parse_pattern(f"{positive};{MINUS}{positive}")


def format_money(
    amount: Decimal | int | str | None, currency: str | None = None, *, language: str | None = None
) -> str:
    """`amount` (Decimal, int or a numeric string) as a price in `currency` (default: the shop's),
    written the way `language` (default: the active language) writes money; rounded half-up to
    the currency's minor unit first."""
    if amount is None or amount == "":
        return ""
    currency = (currency or settings.SHOP_CURRENCY).upper()
    return _formatted(round_to_minor_unit(amount, currency), currency, money_locale(language))


# A catalogue page shows the same few hundred prices over and over, and Babel takes tens of
# microseconds for each: the text of an amount already rounded to the minor unit is kept.
@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: Locale) -> str:
    return _pattern(locale, currency).apply(amount, locale, currency=currency)


# --- amounts as people and tills write them --------------------------------------------------

# The conventions an amount in a file or a field may be written in, as CLDR defines them and Babel
# reads them strictly (a grouping separator only between groups of three digits): Icelandic
# "1.234,50" (and Bokmål's decimal comma) and English "1,234.50". Grouping with a space, Bokmål's
# and French "1 234,50" (no-break, narrow or plain), is taken out first (_SPACE_GROUPED).
AMOUNT_CONVENTIONS = ("is", "en")
_SPACE_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(?:\s[0-9]{3})+(?:[.,][0-9]+)?$")
_AMOUNT_CHARACTERS = re.compile(r"^[+-]?[0-9.,]+$")
# Tills write every currency with two decimals ("1.990,00 kr."), so zeros up to the second decimal
# are read as written even in a currency without a minor unit.
WRITTEN_DECIMALS = 2


class AmountUnclear(ValueError):
    """The text is not one amount of money: not a number, more decimals than the currency has
    (`too_fine`), or readable as two different amounts. The message (active language) says which."""

    def __init__(self, message: str, *, too_fine: bool = False):
        super().__init__(message)
        self.too_fine = too_fine


def parse_amount(text: str, currency: str | None = None) -> Decimal:
    """The amount of money `text` means, as a till file or a member of staff writes it: "100000",
    "100.000", "100,000", "100 000" (a plain, no-break or narrow space), "1.234,50", "1,234.50".

    Each convention of AMOUNT_CONVENTIONS reads the text (Babel's parse_decimal, strict); a reading
    that writes more decimals than the currency's minor unit (ISK none, NOK two; zeros allowed up to
    WRITTEN_DECIMALS) or is not payable in it is not an amount. So in ISK and NOK "100,000" is a
    hundred thousand (no till writes three decimals of either), "1.990,00" is 1990 and "10,5"
    krónur is refused.
    Exactly one amount must remain; when two conventions read two different amounts (a currency
    with three decimals: "1,500") the text is ambiguous. Raises AmountUnclear, never guesses.
    The sign is kept: callers decide whether zero or less is allowed."""
    currency = (currency or settings.SHOP_CURRENCY).upper()
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    compact = raw
    if any(char.isspace() for char in raw):
        if not _SPACE_GROUPED.match(raw):
            raise AmountUnclear(gettext("“%(text)s” is not an amount.") % {"text": raw[:40]})
        compact = "".join(raw.split())
    if not _AMOUNT_CHARACTERS.match(compact):
        raise AmountUnclear(gettext("“%(text)s” is not an amount.") % {"text": raw[:40]})
    digits = minor_unit_digits(currency)
    readings: set[Decimal] = set()
    too_fine = False
    for locale in AMOUNT_CONVENTIONS:
        try:
            value = parse_decimal(compact, locale=locale, strict=True)
        except NumberFormatError:
            continue
        if -value.as_tuple().exponent > max(digits, WRITTEN_DECIMALS) or not is_representable(value, currency):
            too_fine = True
            continue
        readings.add(value)
    if len(readings) == 1:
        return round_to_minor_unit(readings.pop(), currency)
    if len(readings) > 1:
        low, high = sorted(readings)
        raise AmountUnclear(
            gettext("“%(text)s” could be %(one)s or %(other)s: write the amount without grouping separators.")
            % {"text": raw[:40], "one": format_money(low, currency), "other": format_money(high, currency)}
        )
    if too_fine:
        if digits == 0:
            message = gettext("“%(text)s” is not an amount in %(currency)s, which has no decimals.")
        else:
            message = ngettext(
                "“%(text)s” is not an amount in %(currency)s: at most %(digits)s decimal.",
                "“%(text)s” is not an amount in %(currency)s: at most %(digits)s decimals.",
                digits,
            )
        raise AmountUnclear(message % {"text": raw[:40], "currency": currency, "digits": digits}, too_fine=True)
    raise AmountUnclear(gettext("“%(text)s” is not an amount.") % {"text": raw[:40]})


# --- amounts typed into a form ----------------------------------------------------------------


class AmountField(forms.DecimalField):
    """An amount in the shop's currency that a shopper or staff type (a till purchase, a refund),
    read as people write it (`parse_amount`: "1.000" is a thousand krónur, "1 299,50" and
    "1,299.50" are NOK 1,299.50, in any page language). No part smaller than the currency's minor
    unit (CLDR through Babel: ISK none, NOK two; read when the form is validated, so it follows
    SHOP_CURRENCY): finer is a field error saying so (`too_many_decimals`). The bound form shows
    back what was typed, and an invalid form writes nothing. 12 digits at most, as every money
    column."""

    points = False

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        # The currency decides, in validate(): a fixed decimal_places would say "no more than 2
        # decimal places" in ISK, or refuse a third decimal a currency has.
        kwargs["decimal_places"] = None
        super().__init__(**kwargs)
        # The lower bound is said in the currency's terms in validate() (Django's "greater than or
        # equal to 0.01" means nothing in ISK, which has no 0.01).
        self.validators = [v for v in self.validators if not isinstance(v, validators.MinValueValidator)]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal | int):
            return Decimal(value)
        try:
            return parse_amount(str(value), settings.SHOP_CURRENCY)
        except AmountUnclear as unclear:
            if unclear.too_fine:
                raise ValidationError(too_many_decimals(points=self.points), code="too_many_decimals") from None
            raise ValidationError(str(unclear), code="invalid") from None

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        if not is_representable(value, settings.SHOP_CURRENCY):
            raise ValidationError(too_many_decimals(points=self.points), code="too_many_decimals")
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(below_minimum(self.min_value, points=self.points), code="min_value")


def below_minimum(minimum: Decimal | int, currency: str | None = None, *, points: bool = False) -> str:
    """Why an amount (or `points`) below `minimum` is refused, in the currency's terms and the
    active language: at least 0 is "cannot be negative"; a minimum no larger than the currency's
    smallest unit (ISK 1, NOK 0.01) is "above zero"; any other is named as money ("at least ISK 500")."""
    currency = (currency or settings.SHOP_CURRENCY).upper()
    if minimum <= 0:
        return gettext("Points cannot be negative.") if points else gettext("An amount cannot be negative.")
    if minimum <= Decimal(1).scaleb(-minor_unit_digits(currency)):
        return gettext("Enter a number of points above zero.") if points else gettext("Enter an amount above zero.")
    return gettext("Enter an amount of at least %(minimum)s.") % {"minimum": format_money(minimum, currency)}


class PointsField(AmountField):
    """Rewards points a member uses (money in the shop's currency), with the message in points."""

    points = True
