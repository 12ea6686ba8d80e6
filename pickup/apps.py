from django.apps import AppConfig


class PickupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pickup"

    def ready(self):
        # Registers the reminder and expiry e-mails with pickup.notifications (in web and worker).
        from . import reminders  # noqa: F401
