"""Prices as shoppers read them: the shop's currency, written the way the page's language writes it."""

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import translation

from o2o_site.money import (
    AmountField,
    PointsField,
    format_money,
    is_representable,
    minor_unit_digits,
    round_to_minor_unit,
    validate_price,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("is", "12990", "12.990 kr."),
        ("is", "990", "990 kr."),
        ("is", "1234567", "1.234.567 kr."),
        ("nb", "12990", "12 990 ISK"),
        ("en", "12990", "ISK 12,990"),
        ("en", "1234567", "ISK 1,234,567"),
    ],
)
def test_icelandic_kronur_have_no_decimals_in_every_language(language, amount, expected):
    # given a price in ISK / when it is written in the language / then
    assert format_money(Decimal(amount), "ISK", language=language) == expected.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("nb", "1299", "1 299,00 kr"),
        ("nb", "1299.5", "1 299,50 kr"),
        ("nb", "89.9", "89,90 kr"),
        ("nb", "1234567.89", "1 234 567,89 kr"),
        ("is", "1299", "1.299,00 NOK"),
        ("en", "1299", "NOK 1,299.00"),
        ("en", "0.5", "NOK 0.50"),
    ],
)
def test_norwegian_kroner_have_two_decimals_in_every_language(language, amount, expected):
    # given a price in NOK / when it is written in the language / then
    assert format_money(Decimal(amount), "NOK", language=language) == expected.replace(" ", NBSP)


def test_the_active_language_decides_the_separators_and_the_shop_setting_the_currency(settings):
    # given a Norwegian shop
    settings.SHOP_CURRENCY = "NOK"

    # when the same price is shown in each language
    shown = {}
    for language in ("en", "is", "nb"):
        with translation.override(language):
            shown[language] = format_money(Decimal("1299"))

    # then
    assert shown == {"en": f"NOK{NBSP}1,299.00", "is": f"1.299,00{NBSP}NOK", "nb": f"1{NBSP}299,00{NBSP}kr"}


def test_the_money_filter_follows_the_active_language_and_an_orders_currency(settings):
    # given an Icelandic shop showing an order that was placed in NOK
    settings.SHOP_CURRENCY = "ISK"
    template = Template("{% load money %}{{ price|money }} / {{ total|money:currency }}")
    context = Context({"price": Decimal("12990"), "total": Decimal("1299.00"), "currency": "NOK"})

    # when / then
    with translation.override("is"):
        assert template.render(context) == f"12.990{NBSP}kr. / 1.299,00{NBSP}NOK"
    with translation.override("nb"):
        assert template.render(context) == f"12{NBSP}990{NBSP}ISK / 1{NBSP}299,00{NBSP}kr"
    with translation.override("en"):
        assert template.render(context) == f"ISK{NBSP}12,990 / NOK{NBSP}1,299.00"


def test_a_regional_or_unknown_language_code_uses_the_nearest_conventions():
    # given codes browsers send / then
    assert format_money(Decimal("1299"), "NOK", language="nb-NO") == f"1{NBSP}299,00{NBSP}kr"
    assert format_money(Decimal("1299"), "NOK", language="no") == f"1{NBSP}299,00{NBSP}kr"
    assert format_money(Decimal("1299"), "NOK", language="en-GB") == f"NOK{NBSP}1,299.00"
    assert format_money(Decimal("1299"), "NOK", language="de") == f"NOK{NBSP}1,299.00"


def test_amounts_are_rounded_half_up_to_the_currencys_minor_unit():
    # given amounts with more precision than the currency has
    # then krónur round to whole krónur and kroner to øre, half up, as Decimal
    assert round_to_minor_unit(Decimal("12990.50"), "ISK") == Decimal("12991")
    assert round_to_minor_unit(Decimal("12990.49"), "ISK") == Decimal("12990")
    assert round_to_minor_unit(Decimal("89.995"), "NOK") == Decimal("90.00")
    assert round_to_minor_unit(Decimal("89.994"), "NOK") == Decimal("89.99")
    assert isinstance(round_to_minor_unit(Decimal("1"), "NOK"), Decimal)
    assert format_money(Decimal("12990.50"), "ISK", language="is") == f"12.991{NBSP}kr."


def test_negative_amounts_carry_the_minus_sign_in_every_language():
    # the true minus sign (U+2212), not the hyphen CLDR gives English and Icelandic: a rewards
    # history said "-ISK 333" where checkout said "−ISK 333"
    assert format_money(Decimal("-1000"), "ISK", language="is") == f"\u22121.000{NBSP}kr."
    assert format_money(Decimal("-1000"), "NOK", language="nb") == f"\u22121{NBSP}000,00{NBSP}kr"
    assert format_money(Decimal("-1000"), "ISK", language="en") == f"\u2212ISK{NBSP}1,000"
    assert format_money(Decimal("-1000"), "NOK", language="en") == f"\u2212NOK{NBSP}1,000.00"


def test_nothing_to_show_is_an_empty_string():
    assert format_money(None) == ""
    assert format_money("") == ""


def test_minor_units_come_from_cldr():
    # ISK has no minor unit in use, NOK has øre, and so on for any currency CLDR knows
    assert (minor_unit_digits("ISK"), minor_unit_digits("NOK"), minor_unit_digits("EUR")) == (0, 2, 2)
    assert minor_unit_digits("JPY") == 0
    assert format_money(Decimal("1500"), "JPY", language="en") == f"JPY{NBSP}1,500"


def test_a_currency_that_is_not_the_languages_own_is_written_with_its_code():
    assert format_money(Decimal("1299"), "EUR", language="is") == f"1.299,00{NBSP}EUR"
    assert format_money(Decimal("1299"), "EUR", language="nb") == f"1{NBSP}299,00{NBSP}EUR"
    assert format_money(Decimal("1299"), "EUR", language="en") == f"EUR{NBSP}1,299.00"


@pytest.mark.parametrize(
    ("currency", "amount", "payable"),
    [
        ("ISK", "100", True),
        ("ISK", "100.00", True),
        ("ISK", "100.50", False),
        ("NOK", "100.50", True),
        ("NOK", "89.905", False),
    ],
)
def test_an_amount_is_payable_when_it_has_nothing_below_the_minor_unit(currency, amount, payable):
    assert is_representable(Decimal(amount), currency) is payable


def test_the_price_validator_uses_the_shops_currency(settings):
    settings.SHOP_CURRENCY = "NOK"
    validate_price(Decimal("100.50"))
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        validate_price(Decimal("89.905"))
    assert refused.value.messages == ["89.905 is not a price in NOK: prices have at most 2 decimals."]
    assert refused.value.code == "unrepresentable"

    settings.SHOP_CURRENCY = "ISK"
    validate_price(Decimal("100"))
    validate_price(None)
    with pytest.raises(ValidationError):
        validate_price(Decimal("100.50"))


class TypedForm(forms.Form):
    amount = AmountField(required=False)
    points = PointsField(required=False)


@pytest.mark.parametrize(
    ("currency", "language", "typed", "amount_error", "points_error"),
    [
        (
            "ISK",
            "en",
            "100.5",
            "Amounts in ISK have no decimals: enter a whole number.",
            "Points are counted in ISK, which has no decimals: enter a whole number of points.",
        ),
        (
            "ISK",
            "is",
            "100,5",
            "Upphæðir í ISK eru án aukastafa: sláðu inn heila tölu.",
            "Punktar eru taldir í ISK, sem er án aukastafa: sláðu inn heila tölu punkta.",
        ),
        (
            "ISK",
            "nb",
            "100,5",
            "Beløp i ISK har ingen desimaler: skriv inn et helt tall.",
            "Poeng telles i ISK, som ikke har desimaler: skriv inn et helt antall poeng.",
        ),
        (
            "NOK",
            "en",
            "89.9051",
            "Amounts in NOK have at most 2 decimals.",
            "Points are counted in NOK: at most 2 decimals.",
        ),
    ],
)
def test_an_amount_or_points_finer_than_the_currency_are_refused_saying_so_and_kept(
    settings, currency, language, typed, amount_error, points_error
):
    # given the shop's currency
    settings.SHOP_CURRENCY = currency
    # when someone types an amount and points with a part smaller than its minor unit
    with translation.override(language):
        form = TypedForm({"amount": typed, "points": typed})
        errors = {name: list(field_errors) for name, field_errors in form.errors.items()}
    # then each field says the currency has no (or so many) decimals, and shows what was typed
    assert errors == {"amount": [amount_error], "points": [points_error]}
    assert form["amount"].value() == typed and form["points"].value() == typed


@pytest.mark.parametrize(
    ("currency", "typed", "amount"),
    [
        ("ISK", "100", "100"),
        ("ISK", "100,00", "100"),
        ("ISK", "1.000", "1000"),
        ("ISK", "12 990", "12990"),
        ("NOK", "100.5", "100.50"),
        ("NOK", "1 299,50", "1299.50"),
    ],
)
def test_an_amount_is_read_as_people_write_it_in_the_currency(settings, currency, typed, amount):
    settings.SHOP_CURRENCY = currency
    form = TypedForm({"amount": typed, "points": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"amount": Decimal(amount), "points": Decimal(amount)}
