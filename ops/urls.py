from django.urls import path

from . import health, metrics

app_name = "ops"

urlpatterns = [
    path("health/live/", health.liveness, name="liveness"),
    path("health/ready/", health.readiness, name="readiness"),
    # 404 unless OPS_METRICS is on.
    path("metrics/", metrics.metrics_view, name="metrics"),
]
