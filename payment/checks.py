"""Payment settings that must not be wrong in production (README, "Payments"). Registered by
payment.apps.PaymentConfig; tagged START_UP, so gunicorn refuses to start on an error too."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning

from o2o_site.checks import START_UP

KNOWN_PROVIDERS = ("dummy", "stripe", "vipps")


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
    variants = getattr(settings, "PAYMENT_VARIANTS", {})
    if "dummy" in variants and not settings.DEBUG:
        messages.append(
            Warning(
                "The Dummy payment provider is on and DEBUG is off: anyone can mark an order paid.",
                hint="Only for demos and benchmarks: remove dummy from PAYMENT_PROVIDERS in production.",
                id="payment.W001",
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


CHECKS = [(check_payment_providers, (Tags.security, START_UP))]
