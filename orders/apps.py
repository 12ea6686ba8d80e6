from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"

    def ready(self):
        from .checks import check_notification_emails
        from .notifications.messages import forget_builders

        checks.register(check_notification_emails)
        setting_changed.connect(forget_builders, dispatch_uid="orders.forget_notification_builders")
