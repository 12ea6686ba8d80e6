"""System checks of the catalog (registered in CatalogConfig.ready; also run when the web server
starts): every VAT class has a rate in every country the shop sells in, so an order can never be
placed without one."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.checks import Error

from .models import VatClass


def check_vat_rates(app_configs=None, **kwargs) -> list[Error]:
    rates = getattr(settings, "VAT_RATES", None)
    if not isinstance(rates, dict) or not rates:
        return [
            Error(
                "VAT_RATES must be a dict {country code: {VAT class: rate in per cent}}.",
                hint="See settings.py and the README, 'Receipts and VAT'.",
                id="catalog.E001",
            )
        ]
    errors = []
    for country, by_class in rates.items():
        missing = [vat_class for vat_class in VatClass.values if vat_class not in (by_class or {})]
        if missing:
            errors.append(
                Error(
                    f"VAT_RATES[{country!r}] has no rate for VAT class {', '.join(missing)}.",
                    hint=f'Set VAT_RATES_{country}="standard=…;reduced=…" (per cent).',
                    id="catalog.E001",
                )
            )
        for vat_class, rate in (by_class or {}).items():
            try:
                valid = Decimal(rate).is_finite() and 0 <= Decimal(rate) < 100
            except (InvalidOperation, TypeError, ValueError):
                valid = False
            if not valid:
                errors.append(
                    Error(
                        f"VAT_RATES[{country!r}][{vat_class!r}] = {rate!r} is not a rate in per cent (0–100).",
                        id="catalog.E002",
                    )
                )
    return errors
