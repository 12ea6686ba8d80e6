from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, request ids and metrics for operators (README, "Health and metrics")."""

    name = "ops"

    def ready(self):
        from django.conf import settings

        from . import request_id

        request_id.connect_celery_signals()
        if settings.OPS_METRICS:
            from . import metrics

            metrics.connect_signals()
