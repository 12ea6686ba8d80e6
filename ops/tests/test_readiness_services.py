"""Readiness against real services that go away: a redis-server of the test's own (started on a
free port, then stopped) and a real `celery worker -B` on it (beat embedded, its heartbeat every
second), on the test's PostgreSQL database. The request id of a request goes with the task it
queues into the worker's log.
"""

import time
import uuid

import pytest
from django.urls import reverse

from ops.request_id import current_request_id
from ops.tasks import beat_heartbeat
from orders.tests.test_outbox_faults import Worker, own_redis  # noqa: F401 (a fixture)
from orders.tests.test_worker import sending_to

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

READY_TIMEOUT = 30
PROBE_LIMIT = 5.0  # seconds a readiness probe may take with a service down


def _probe(client):
    started = time.monotonic()
    response = client.get(reverse("ops:readiness"))
    return response, time.monotonic() - started


def _until(condition, *, timeout, what, last):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"no {what} within {timeout} s; last: {last()}")


def test_readiness_goes_red_with_the_reason_when_the_worker_or_redis_stops(
    require_postgres,
    own_redis,  # noqa: F811 (the fixture imported above)
    transactional_db,
    client,
    tmp_path,
    settings,  # noqa: F811
):
    # given a Redis of the test's own, a worker with beat on it, and this process sending there
    settings.OPS_BEAT_MAX_AGE = 5
    queue = f"o2o-ops-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        broker_url=own_redis.url,
        queue=queue,
        mail_dir=tmp_path / "mail",
        log_path=tmp_path / "worker.log",
        OPS_BEAT_HEARTBEAT_INTERVAL="1",
    )
    try:
        with sending_to(broker_url=own_redis.url, queue=queue):
            # when everything runs, readiness is green: database, cache, broker, worker, outbox, beat
            last = {}

            def ready():
                last["response"], _seconds = _probe(client)
                return last["response"].status_code == 200

            _until(ready, timeout=READY_TIMEOUT, what="ready", last=lambda: last["response"].json())
            checks = last["response"].json()["checks"]
            assert set(checks) == {"database", "cache", "broker", "worker", "outbox", "beat"}
            assert checks["worker"]["detail"] == f"1 worker(s) on queue {queue!r}"

            # and a task queued inside a request's id logs with that id in the worker
            request_id = f"test-{uuid.uuid4().hex}"
            token = current_request_id.set(request_id)
            try:
                beat_heartbeat.delay()
            finally:
                current_request_id.reset(token)
            worker.wait_until(
                lambda: any(f"[{request_id}] beat heartbeat recorded" in line for line in worker.log().splitlines()),
                timeout=20,
                what="the task's log line with the request id",
            )

            # when the worker stops
            worker.stop()

            # then readiness fails, naming the worker, within the probe limit
            response, seconds = _probe(client)
            report = response.json()
            assert response.status_code == 503, report
            assert report["status"] == "not ready"
            assert report["checks"]["worker"] == {
                "ok": False,
                "detail": "Unavailable: no Celery worker answered a ping within 1 s",
                "ms": report["checks"]["worker"]["ms"],
            }
            assert report["checks"]["broker"]["ok"] and report["checks"]["database"]["ok"]
            assert seconds < PROBE_LIMIT

            # and once beat's heartbeat is older than OPS_BEAT_MAX_AGE, beat is named too
            def beat_stale():
                last["response"], _seconds = _probe(client)
                return not last["response"].json()["checks"]["beat"]["ok"]

            _until(beat_stale, timeout=15, what="stale beat", last=lambda: last["response"].json())
            assert "more than OPS_BEAT_MAX_AGE=5 s" in last["response"].json()["checks"]["beat"]["detail"]

            # when Redis stops too
            own_redis.stop()

            # then readiness names the broker as unreachable
            response, seconds = _probe(client)
            report = response.json()
            assert response.status_code == 503, report
            assert report["checks"]["broker"] == {
                "ok": False,
                "detail": "Unavailable: Unable to connect to Redis: Connection Error",
                "ms": report["checks"]["broker"]["ms"],
            }
            assert report["checks"]["worker"]["detail"].startswith("Unavailable: cannot reach the broker")
            assert report["checks"]["database"]["ok"] is True
            assert seconds < PROBE_LIMIT
    finally:
        worker.stop()
