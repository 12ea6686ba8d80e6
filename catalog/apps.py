from django.apps import AppConfig
from django.core import checks

from o2o_site.checks import START_UP


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self):
        from .checks import check_vat_rates

        checks.register(check_vat_rates, START_UP)
