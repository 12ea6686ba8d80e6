from django.apps import AppConfig
from django.core import checks


class CheckoutConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "checkout"

    def ready(self):
        from .checks import check_order_page_panels

        checks.register(check_order_page_panels)
