"""Prometheus metrics, on with OPS_METRICS=true (README, "Health and metrics"); off, nothing here runs.

- Requests: django-prometheus's middleware (`django_http_requests_total_by_view_transport_method`,
  `django_http_requests_latency_seconds_by_view_method`, `django_http_responses_total_by_status_view_method`, …).
- Checkouts: `o2o_checkouts_total{channel}`, orders placed, counted when their transaction commits.
- Outbox: `o2o_outbox_backlog` (e-mails pending or sending), `o2o_outbox_oldest_pending_seconds`,
  `o2o_outbox_failed`, `o2o_outbox_unconfirmed`, read from the database when scraped.
- Tasks: `o2o_task_duration_seconds{task}` (run time), `o2o_task_queue_seconds{task}` (from
  publish to start, across processes: both clocks are wall clocks) and `o2o_tasks_total{task,state}`,
  in the worker; it serves them on OPS_WORKER_METRICS_PORT.

`/metrics/` serves the web process's metrics to operators only (ops.access). Several processes
(gunicorn workers, a prefork worker's children) each count on their own unless
PROMETHEUS_MULTIPROC_DIR names a directory they share (prometheus_client's multiprocess mode),
which is then read as one.
"""

import os
import threading
import time

from celery import signals as celery_signals
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.signals import post_save
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, start_http_server

from orders.models import Notification, NotificationStatus, Order

from .access import operators_only

CHECKOUTS = Counter("o2o_checkouts_total", "Orders placed (counted at commit), by channel", ["channel"])
TASK_SECONDS = Histogram(
    "o2o_task_duration_seconds",
    "Celery task run time in seconds",
    ["task"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TASK_QUEUE_SECONDS = Histogram(
    "o2o_task_queue_seconds",
    "Seconds from a task's publication to its start in a worker",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
TASKS = Counter("o2o_tasks_total", "Celery tasks finished, by task and state", ["task", "state"])
PUBLISHED_AT_HEADER = "o2o_published_at"


class OutboxCollector:
    """The e-mail outbox (orders.models.Notification) as gauges, read when scraped: one query."""

    def collect(self):
        outstanding = Q(status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING))
        figures = Notification.objects.aggregate(
            backlog=Count("pk", filter=outstanding),
            oldest=Min("created_at", filter=outstanding),
            failed=Count("pk", filter=Q(status=NotificationStatus.FAILED)),
            unconfirmed=Count("pk", filter=Q(status=NotificationStatus.UNCONFIRMED)),
        )
        oldest = figures["oldest"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("o2o_outbox_backlog", "E-mails pending or sending", value=figures["backlog"])
        yield GaugeMetricFamily(
            "o2o_outbox_oldest_pending_seconds", "Age of the oldest e-mail pending or sending", value=age
        )
        yield GaugeMetricFamily("o2o_outbox_failed", "E-mails failed (a manager resends)", value=figures["failed"])
        yield GaugeMetricFamily(
            "o2o_outbox_unconfirmed", "E-mails unconfirmed (a manager decides)", value=figures["unconfirmed"]
        )


def _process_registry():
    """This process's metrics, or every process's with PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_view(request):
    """The Prometheus text exposition of this shop's metrics: 404 unless OPS_METRICS is on, then
    403 unless the request is an operator's (ops.access)."""
    if not settings.OPS_METRICS:
        raise Http404
    return _metrics(request)


@never_cache
@operators_only
def _metrics(request):
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    body = generate_latest(_process_registry()) + generate_latest(outbox)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# --- signals --------------------------------------------------------------------------------


def _count_checkout(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        channel = str(instance.channel)
        transaction.on_commit(lambda: CHECKOUTS.labels(channel=channel).inc())


def _stamp_publication(headers=None, **kwargs):
    if headers is not None:
        headers.setdefault(PUBLISHED_AT_HEADER, time.time())


_started: dict[str, float] = {}
_started_lock = threading.Lock()


def _task_started(task_id=None, task=None, **kwargs):
    if task is None or task_id is None:
        return
    published_at = getattr(task.request, PUBLISHED_AT_HEADER, None)
    if isinstance(published_at, int | float):
        TASK_QUEUE_SECONDS.labels(task=task.name).observe(max(0.0, time.time() - published_at))
    with _started_lock:
        _started[task_id] = time.perf_counter()


def _task_finished(task_id=None, task=None, state=None, **kwargs):
    with _started_lock:
        started = _started.pop(task_id, None)
    if task is None or started is None:
        return
    TASK_SECONDS.labels(task=task.name).observe(time.perf_counter() - started)
    TASKS.labels(task=task.name, state=str(state or "unknown").lower()).inc()


def _serve_worker_metrics(**kwargs):
    port = settings.OPS_WORKER_METRICS_PORT
    if port:
        start_http_server(port, addr=settings.OPS_WORKER_METRICS_ADDR, registry=_process_registry())


def connect_signals():
    """Count checkouts and time tasks (ops.apps.OpsConfig.ready, with OPS_METRICS on)."""
    post_save.connect(_count_checkout, sender=Order, dispatch_uid="ops.metrics.checkouts")
    celery_signals.before_task_publish.connect(_stamp_publication, dispatch_uid="ops.metrics.publish")
    celery_signals.task_prerun.connect(_task_started, dispatch_uid="ops.metrics.prerun")
    celery_signals.task_postrun.connect(_task_finished, dispatch_uid="ops.metrics.postrun")
    celery_signals.worker_ready.connect(_serve_worker_metrics, dispatch_uid="ops.metrics.worker")
