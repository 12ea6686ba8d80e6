"""Liveness and readiness (ops/health.py) on the test settings: tasks in-process, no worker."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from ops.models import Heartbeat
from ops.tasks import BEAT, beat_heartbeat
from orders.models import Notification, NotificationStatus
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory


def _orders(count):
    store = StoreFactory()
    product = ProductFactory(price=Decimal("1990"))
    StockLevelFactory(store=store, product=product, on_hand=50)
    return [place_order(store=store, products_and_quantities=[(product, 1)]) for _ in range(count)]


def test_liveness_answers_without_touching_the_database(client):
    # given no database access at all (no db fixture: any query raises)

    # when a probe asks whether the process is alive
    response = client.get(reverse("ops:liveness"))

    # then it answers, with a request id
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert len(response["X-Request-ID"]) == 32


def test_liveness_is_open_to_anyone(client):
    response = client.get(reverse("ops:liveness"), REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 200


def test_readiness_passes_when_everything_is_there(transactional_db, client):
    # given the test settings: database and cache there, tasks run in-process (no worker, no beat)

    # when the probe asks from this machine
    response = client.get(reverse("ops:readiness"))

    # then every check passes, each saying what it saw
    report = response.json()
    assert response.status_code == 200, report
    assert report["status"] == "ready"
    assert set(report["checks"]) == {"database", "cache", "worker", "outbox", "beat"}
    assert all(check["ok"] for check in report["checks"].values())
    assert report["checks"]["worker"]["detail"] == "tasks run in the web process (no broker)"
    assert report["checks"]["outbox"]["backlog"] == 0
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        # a shopper's request passed on by a proxy on the same machine
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
    ],
)
def test_readiness_is_for_operators_only(db, client, settings, headers):
    settings.OPS_TOKEN = "a-long-operator-token"
    response = client.get(reverse("ops:readiness"), **headers)
    assert response.status_code == 403
    assert b"database" not in response.content


def test_an_operator_token_opens_readiness_from_anywhere(transactional_db, client, settings):
    settings.OPS_TOKEN = "a-long-operator-token"
    settings.OPS_ALLOWED_NETWORKS = []
    response = client.get(
        reverse("ops:readiness"),
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
        HTTP_AUTHORIZATION="Bearer a-long-operator-token",
    )
    assert response.status_code == 200


def test_an_allowed_network_opens_readiness(transactional_db, client, settings):
    settings.OPS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get(reverse("ops:readiness"), REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get(reverse("ops:readiness"), REMOTE_ADDR="127.0.0.1").status_code == 403


def test_an_old_pending_email_makes_readiness_fail_with_its_age(transactional_db, client, settings):
    # given two orders whose e-mails are still pending, the oldest 20 minutes old
    _orders(2)
    settings.OPS_OUTBOX_MAX_AGE = 15 * 60
    Notification.objects.update(status=NotificationStatus.PENDING)
    Notification.objects.filter(pk=Notification.objects.first().pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=20)
    )

    # when the probe asks
    response = client.get(reverse("ops:readiness"))

    # then it is not ready, and says why, with the backlog and the age
    report = response.json()
    assert response.status_code == 503
    assert report["status"] == "not ready"
    outbox = report["checks"]["outbox"]
    assert outbox["ok"] is False
    assert outbox["backlog"] == 2
    assert 1195 <= outbox["oldest_pending_seconds"] <= 1300
    assert "2 e-mail(s) pending, the oldest 120" in outbox["detail"]
    assert "older than OPS_OUTBOX_MAX_AGE=900 s" in outbox["detail"]
    assert report["checks"]["database"]["ok"] is True


def test_a_backlog_past_the_limit_makes_readiness_fail(transactional_db, client, settings):
    _orders(3)
    Notification.objects.update(status=NotificationStatus.SENDING)
    settings.OPS_OUTBOX_MAX_BACKLOG = 2

    response = client.get(reverse("ops:readiness"))

    assert response.status_code == 503
    assert "more than OPS_OUTBOX_MAX_BACKLOG=2" in response.json()["checks"]["outbox"]["detail"]
    # sent, failed and unconfirmed e-mails are no backlog
    Notification.objects.update(status=NotificationStatus.FAILED)
    response = client.get(reverse("ops:readiness"))
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"]["failed"] == 3


def test_beat_check_reads_the_heartbeat_against_its_schedule(transactional_db, client, settings):
    # given a broker (not in-process), so beat is expected; the worker check is left out
    from o2o_site.celery import app

    settings.OPS_BEAT_MAX_AGE = 180
    app.conf.task_always_eager = False
    try:
        url = reverse("ops:readiness") + "?skip=worker,broker"
        # then with no heartbeat ever, beat is reported as never having run
        beat = client.get(url).json()["checks"]["beat"]
        assert beat["ok"] is False
        assert beat["detail"] == "Unavailable: beat has never run (no heartbeat recorded)"

        # a heartbeat just now passes
        beat_heartbeat.apply()
        response = client.get(url)
        assert response.status_code == 200, response.json()
        assert response.json()["checks"]["beat"]["last_run_seconds_ago"] < 5

        # one older than OPS_BEAT_MAX_AGE fails, with its age
        Heartbeat.objects.filter(name=BEAT).update(beat_at=timezone.now() - datetime.timedelta(seconds=600))
        response = client.get(url)
        assert response.status_code == 503
        assert "beat's last run was 600 s ago (more than OPS_BEAT_MAX_AGE=180 s)" in json.dumps(response.json())
    finally:
        app.conf.task_always_eager = True


def test_skip_names_only_known_checks(db, client):
    response = client.get(reverse("ops:readiness") + "?skip=worker,wrokers")
    assert response.status_code == 400
    assert "unknown check(s) in skip: wrokers" in response.json()["error"]
