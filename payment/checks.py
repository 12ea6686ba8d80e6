"""Payment settings that must not be wrong in production (README, "Payments"). Registered by
payment.apps.PaymentConfig; tagged START_UP, so gunicorn refuses to start on an error too."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning
from django.utils.module_loading import import_string

from o2o_site.checks import START_UP

KNOWN_PROVIDERS = ("dummy", "stripe", "vipps")
# stores.models.PaymentOptions' values (this module is imported before the models are loaded;
# a test keeps the two the same).
KNOWN_PAYMENT_OPTIONS = ("both", "online", "at_pickup")


def check_payment_providers(app_configs=None, **kwargs):
    messages = []
    providers = list(getattr(settings, "PAYMENT_PROVIDERS", []))
    unknown = [name for name in providers if name not in KNOWN_PROVIDERS]
    if unknown:
        messages.append(
            Error(
                f"PAYMENT_PROVIDERS names {', '.join(unknown)}, which the shop does not know: "
                "shoppers would not be offered it.",
                hint=f"Use {', '.join(KNOWN_PROVIDERS)}.",
                id="payment.E001",
            )
        )
    for provider, variable in getattr(settings, "PAYMENT_PROVIDER_VARIABLES_MISSING", []):
        messages.append(
            Error(
                f"PAYMENT_PROVIDERS includes {provider}, which needs {variable}: it is not set.",
                hint=f"Set {variable} in the environment (README, Payments), or remove {provider} "
                "from PAYMENT_PROVIDERS.",
                id="payment.E003",
            )
        )
    variants = getattr(settings, "PAYMENT_VARIANTS", {})
    if "dummy" in variants and not settings.DEBUG:
        messages.append(
            Warning(
                "The Dummy payment provider is on and DEBUG is off: anyone can mark an order paid.",
                hint="Only for demos and benchmarks: remove dummy from PAYMENT_PROVIDERS in production.",
                id="payment.W001",
            )
        )
    options = getattr(settings, "SHOP_PAYMENT_OPTIONS", "both")
    if options not in KNOWN_PAYMENT_OPTIONS:
        messages.append(
            Error(
                f"SHOP_PAYMENT_OPTIONS is {options!r}: every checkout would fail.",
                hint=f"Use {', '.join(KNOWN_PAYMENT_OPTIONS)}.",
                id="payment.E002",
            )
        )
    if "vipps" in variants and not variants["vipps"][1].get("webhook_secret"):
        messages.append(
            Warning(
                "VIPPS_WEBHOOK_SECRET is not set: every Vipps webhook will be refused as unsigned.",
                hint="Register the webhook (README, Payments) and set the secret Vipps returns.",
                id="payment.W002",
            )
        )
    return messages


# What a receipt must name the seller by, per country (settings.RECEIPT_SELLERS).
REGISTRATION_SETTINGS = {
    "IS": ("kennitala", "SELLER_IS_KENNITALA"),
    "NO": ("organisasjonsnummer", "SELLER_NO_ORGANISASJONSNUMMER"),
}


def check_receipt_sellers(app_configs=None, **kwargs):
    """Once the shop takes money online (PAYMENT_PROVIDERS set, DEBUG off), every receipt must
    name the seller's registration: warn for each country whose number is missing."""
    if settings.DEBUG or not getattr(settings, "PAYMENT_PROVIDERS", []):
        return []
    sellers = getattr(settings, "RECEIPT_SELLERS", {})
    messages = []
    for country, (field, variable) in REGISTRATION_SETTINGS.items():
        if not (sellers.get(country) or {}).get(field):
            messages.append(
                Warning(
                    f"Receipts for sales in {country} would not show the seller's {field}.",
                    hint=f"Set {variable} (README, 'Receipts and VAT'); silence payment.W003 if the shop "
                    f"has no stores in {country}.",
                    id="payment.W003",
                )
            )
    return messages


def check_units_given_back_otherwise(app_configs=None, **kwargs):
    """Every path in O2O_UNITS_GIVEN_BACK_OTHERWISE imports to a callable: a refund must never
    find out at the counter that it cannot tell which units were already given back."""
    errors = []
    for path in getattr(settings, "O2O_UNITS_GIVEN_BACK_OTHERWISE", []):
        try:
            found = import_string(path)
        except ImportError as error:
            found = None
            reason = f"which does not import: {error}"
        else:
            reason = "which is not callable"
        if not callable(found):
            errors.append(Error(f"O2O_UNITS_GIVEN_BACK_OTHERWISE names {path!r}, {reason}.", id="payment.E004"))
    return errors


CHECKS = [
    (check_payment_providers, (Tags.security, START_UP)),
    (check_receipt_sellers, (START_UP,)),
    (check_units_given_back_otherwise, (START_UP,)),
]
