"""The shop refuses to start without a VAT rate for every class in every country it sells in."""

from decimal import Decimal

from catalog.checks import check_vat_rates


def test_the_default_rates_pass():
    assert check_vat_rates() == []


def test_a_country_without_a_class_or_with_a_bad_rate_is_an_error(settings):
    settings.VAT_RATES = {"IS": {"standard": Decimal(24)}, "NO": {"standard": Decimal(25), "reduced": Decimal(150)}}

    errors = check_vat_rates()

    assert [error.id for error in errors] == ["catalog.E001", "catalog.E002"]
    assert "VAT_RATES['IS'] has no rate for VAT class reduced" in errors[0].msg
    assert "'NO'" in errors[1].msg and "150" in errors[1].msg


def test_no_rates_at_all_is_an_error(settings):
    settings.VAT_RATES = {}
    assert [error.id for error in check_vat_rates()] == ["catalog.E001"]
