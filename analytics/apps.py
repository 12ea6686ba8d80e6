from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """The O2O dashboard in the admin, read from daily roll-up rows (README, "The O2O dashboard")."""

    name = "analytics"
    verbose_name = _("Analytics")
