"""Liveness and readiness for operators (README, "Health and metrics").

- `/health/live/` answers 200 while the process serves requests; it touches neither the database
  nor Redis, so a restart is never caused by a service being down.
- `/health/ready/` runs every check at once (django-health-check's HealthCheck classes, each
  with its own timeout) and answers 200 when all pass, 503 with each failing check's reason
  otherwise, as JSON: `{"status": "ready"|"not ready", "checks": {name: {"ok": bool,
  "detail": str, "ms": float}}}`. `?skip=worker,beat` leaves checks out (an orchestrator that
  should keep serving pages while the worker is down probes with that).

The checks: `database` (SELECT 1), `cache` (a set and get on the default cache: Redis in
production), `broker` (a PING of the Redis broker; only with a Redis CELERY_BROKER_URL),
`worker` (a Celery worker answers a ping, and workers consume CELERY_TASK_DEFAULT_QUEUE and
CELERY_SCHEDULED_QUEUE), `outbox` (the e-mail outbox, orders.models.Notification: rows pending or
sending at most OPS_OUTBOX_MAX_BACKLOG, the oldest at most OPS_OUTBOX_MAX_AGE seconds old) and
`beat` (ops.tasks.beat_heartbeat ran within OPS_BEAT_MAX_AGE seconds). With no broker (`make run`:
tasks run in the web process) the worker and beat checks pass and say so.
"""

import asyncio
import dataclasses
import datetime
import json
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from redis.asyncio import Redis as RedisClient

from o2o_site.celery import app as celery_app
from orders.models import Notification, NotificationStatus

from .access import operators_only
from .models import Heartbeat
from .tasks import BEAT

OUTSTANDING = (NotificationStatus.PENDING, NotificationStatus.SENDING)
CHECK_NAMES = frozenset({"database", "cache", "broker", "worker", "outbox", "beat"})


def _in_process() -> bool:
    """True when Celery tasks run inside the web process (no broker, so no worker and no beat)."""
    return bool(celery_app.conf.task_always_eager)


class _ClosesItsConnection:
    """A check that reads the database runs in a thread of its own: close that thread's
    connection after, as a request does, so probes leave no connection behind."""

    def run(self):
        try:
            self.probe()
        finally:
            connection.close()


@dataclasses.dataclass
class Worker(HealthCheck):
    """Celery workers answer a ping and consume each of the shop's queues (CELERY_TASK_DEFAULT_QUEUE,
    the notifications, and CELERY_SCHEDULED_QUEUE, beat's jobs; one queue when they are the same)."""

    timeout: datetime.timedelta = dataclasses.field(
        default_factory=lambda: datetime.timedelta(seconds=settings.OPS_WORKER_PING_TIMEOUT), repr=False
    )

    def run(self):
        self.detail = ""
        if _in_process():
            self.detail = "tasks run in the web process (no broker)"
            return
        seconds = self.timeout.total_seconds()
        # Where beat's jobs go as the app routes them (settings.CELERY_TASK_ROUTES).
        scheduled = celery_app.amqp.router.route({}, "ops.tasks.beat_heartbeat")["queue"].name
        needed = list(dict.fromkeys([celery_app.conf.task_default_queue, scheduled]))
        try:
            # limit=1: the first answer ends the wait (without it a ping always waits `seconds`).
            replies = celery_app.control.ping(timeout=seconds, limit=1)
            if not replies:
                raise ServiceUnavailable(f"no Celery worker answered a ping within {seconds:g} s")
            first = next(iter(replies[0]))
            queues = celery_app.control.inspect([first], timeout=seconds, limit=1).active_queues() or {}
            if not all(any(q.get("name") == queue for q in queues.get(first, [])) for queue in needed):
                queues = celery_app.control.inspect(timeout=seconds).active_queues() or {}
            serving = {
                queue: sorted(name for name, qs in queues.items() if any(q.get("name") == queue for q in qs))
                for queue in needed
            }
        except ServiceUnavailable:
            raise
        except Exception as error:  # kombu's connection errors name no secret, only host and port
            raise ServiceUnavailable(f"cannot reach the broker to ping a worker: {error}") from error
        unserved = [queue for queue in needed if not serving[queue]]
        if unserved:
            raise ServiceUnavailable(f"no Celery worker consumes the queue {unserved[0]!r}")
        self.detail = "; ".join(f"{len(serving[queue])} worker(s) on queue {queue!r}" for queue in needed)


@dataclasses.dataclass
class Outbox(_ClosesItsConnection, HealthCheck):
    """The e-mail outbox's backlog (Notification rows pending or sending) and its oldest row's age."""

    def probe(self):
        figures = Notification.objects.aggregate(
            outstanding=Count("pk", filter=Q(status__in=OUTSTANDING)),
            oldest=Min("created_at", filter=Q(status__in=OUTSTANDING)),
            failed=Count("pk", filter=Q(status=NotificationStatus.FAILED)),
            unconfirmed=Count("pk", filter=Q(status=NotificationStatus.UNCONFIRMED)),
        )
        oldest = figures["oldest"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        self.figures = {
            "backlog": figures["outstanding"],
            "oldest_pending_seconds": round(age, 1),
            "failed": figures["failed"],
            "unconfirmed": figures["unconfirmed"],
        }
        self.detail = (
            f"{figures['outstanding']} e-mail(s) pending, the oldest {age:.0f} s old; "
            f"{figures['failed']} failed, {figures['unconfirmed']} unconfirmed"
        )
        most, oldest_allowed = settings.OPS_OUTBOX_MAX_BACKLOG, settings.OPS_OUTBOX_MAX_AGE
        if figures["outstanding"] > most:
            raise ServiceUnavailable(f"{self.detail} (more than OPS_OUTBOX_MAX_BACKLOG={most})")
        if age > oldest_allowed:
            raise ServiceUnavailable(f"{self.detail} (older than OPS_OUTBOX_MAX_AGE={oldest_allowed} s)")


@dataclasses.dataclass
class BeatHeartbeat(_ClosesItsConnection, HealthCheck):
    """Beat's last run (ops.tasks.beat_heartbeat) within OPS_BEAT_MAX_AGE seconds."""

    def probe(self):
        self.detail = ""
        if _in_process():
            self.detail = "no beat: tasks run in the web process (no broker)"
            return
        beat_at = Heartbeat.objects.filter(name=BEAT).values_list("beat_at", flat=True).first()
        if beat_at is None:
            raise ServiceUnavailable("beat has never run (no heartbeat recorded)")
        age = (timezone.now() - beat_at).total_seconds()
        self.figures = {"last_run_seconds_ago": round(age, 1)}
        self.detail = f"last run {age:.0f} s ago"
        if age > settings.OPS_BEAT_MAX_AGE:
            raise ServiceUnavailable(
                f"beat's last run was {age:.0f} s ago (more than OPS_BEAT_MAX_AGE={settings.OPS_BEAT_MAX_AGE} s)"
            )


def _redis_client(url: str):
    timeout = settings.OPS_REDIS_TIMEOUT
    return lambda: RedisClient.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def readiness_checks() -> dict[str, HealthCheck]:
    """The readiness checks by name, in the order they are reported."""
    checks: dict[str, HealthCheck] = {"database": Database(), "cache": Cache()}
    broker = celery_app.conf.broker_url or ""
    if not _in_process() and broker.startswith(("redis://", "rediss://")):
        checks["broker"] = Redis(client_factory=_redis_client(broker))
    checks["worker"] = Worker()
    checks["outbox"] = Outbox()
    checks["beat"] = BeatHeartbeat()
    return checks


async def _results(checks: dict[str, HealthCheck]):
    with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readiness") as executor:
        return await asyncio.gather(*(check.get_result(executor) for check in checks.values()))


def readiness_report(skip: frozenset[str] = frozenset()) -> tuple[bool, dict]:
    """Run the readiness checks not in `skip` at once; (all passed, the JSON report)."""
    checks = {name: check for name, check in readiness_checks().items() if name not in skip}
    results = asyncio.run(_results(checks))
    report = {}
    for name, result in zip(checks, results, strict=True):
        entry = {
            "ok": result.error is None,
            "detail": getattr(result.check, "detail", "") or "",
            "ms": round(result.time_taken * 1000, 1),
        }
        if result.error is not None:
            entry["detail"] = str(result.error)
        if getattr(result.check, "figures", None):
            entry.update(result.check.figures)
        report[name] = entry
    ready = all(entry["ok"] for entry in report.values())
    return ready, {"status": "ready" if ready else "not ready", "checks": report}


def _json(payload: dict, status: int) -> HttpResponse:
    return HttpResponse(json.dumps(payload), status=status, content_type="application/json")


@never_cache
@require_GET
def liveness(request):
    """200 while this process answers; touches neither the database nor Redis."""
    return _json({"status": "alive"}, 200)


@never_cache
@require_GET
@operators_only
def readiness(request):
    """200 when every check passes, else 503; the JSON names each check's reason."""
    skip = frozenset(name.strip() for name in request.GET.get("skip", "").split(",") if name.strip())
    unknown = skip - CHECK_NAMES
    if unknown:
        known = ", ".join(sorted(CHECK_NAMES))
        return _json({"error": f"unknown check(s) in skip: {', '.join(sorted(unknown))}; known: {known}"}, 400)
    ready, report = readiness_report(skip)
    return _json(report, 200 if ready else 503)
