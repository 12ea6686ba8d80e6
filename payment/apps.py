from django.apps import AppConfig
from django.core import checks as django_checks
from django.utils.translation import gettext_lazy as _

from . import checks


class PaymentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payment"
    verbose_name = _("Payments")

    def ready(self):
        # The payment settings that must not be wrong (payment/checks.py).
        for check, tags in checks.CHECKS:
            django_checks.register(check, *tags)
        from . import receivers  # noqa: F401, PLC0415 — connects the signal receivers
