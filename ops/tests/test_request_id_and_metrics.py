"""Request ids in responses, log records (text and JSON) and task headers; Prometheus metrics."""

import io
import json
import logging
from decimal import Decimal

import pytest
from celery import signals
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.urls import reverse
from prometheus_client import REGISTRY
from pythonjsonlogger.json import JsonFormatter

from catalog.tests.factories import ProductFactory
from ops import metrics
from ops.request_id import (
    RequestIdFilter,
    RequestIdMiddleware,
    _add_request_id_header,
    accepted_request_id,
    current_request_id,
)
from ops.tasks import beat_heartbeat
from orders.tests.factories import place_order
from stores.tests.factories import StockLevelFactory, StoreFactory


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("3f2b9c0e-5d7a-4e1b-9c2d-0a1b2c3d4e5f", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("short", False),
        ("has spaces in it", False),
        ("<script>alert(1)</script>", False),
        ("x" * 129, False),
        ("", False),
    ],
)
def test_a_well_formed_request_id_is_kept_and_any_other_replaced(client, given, kept):
    response = client.get(reverse("ops:liveness"), HTTP_X_REQUEST_ID=given)
    returned = response["X-Request-ID"]
    if kept:
        assert returned == given
    else:
        assert returned != given and len(returned) == 32 and int(returned, 16) >= 0


def _capture(logger_name, formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    return stream, lambda: (logger.removeHandler(handler), logger.setLevel(previous))


def test_the_request_log_is_one_json_object_with_the_request_id(client):
    # given the JSON format LOG_FORMAT=json configures
    options = django_settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(options["format"], rename_fields=options["rename_fields"])
    stream, undo = _capture("o2o.request", formatter)
    try:
        # when a request comes in with a request id
        client.get(reverse("ops:liveness") + "?probe=1", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    finally:
        undo()

    # then its log record is one JSON object carrying the id, the path, the status and the time
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["request_id"] == "lb-0123456789abcdef"
    assert record["logger"] == "o2o.request"
    assert record["level"] == "INFO"
    assert (record["method"], record["path"], record["status"]) == ("GET", "/health/live/", 200)
    assert record["duration_ms"] >= 0
    assert record["message"].startswith("GET /health/live/ 200 ")


def test_log_records_outside_a_request_carry_a_dash(caplog):
    stream, undo = _capture("o2o.test", logging.Formatter(django_settings.LOGGING["formatters"]["text"]["format"]))
    try:
        logging.getLogger("o2o.test").info("no request here")
        token = current_request_id.set("req-12345678")
        try:
            logging.getLogger("o2o.test").info("inside one")
        finally:
            current_request_id.reset(token)
    finally:
        undo()
    first, second = stream.getvalue().splitlines()
    assert first.endswith("INFO o2o.test [-] no request here")
    assert second.endswith("INFO o2o.test [req-12345678] inside one")


def test_a_task_published_during_a_request_carries_its_id_in_the_headers():
    # the handler before_task_publish runs (the real worker round trip: test_readiness_services)
    headers = {}
    _add_request_id_header(headers=headers)
    assert headers == {}
    token = current_request_id.set("req-abcdefgh")
    try:
        _add_request_id_header(headers=headers)
    finally:
        current_request_id.reset(token)
    assert headers == {"request_id": "req-abcdefgh"}
    assert _add_request_id_header in [receiver() for _key, receiver in signals.before_task_publish.receivers]


def test_a_failed_request_is_logged_at_error_with_its_id_even_when_info_is_off(rf):
    # given a log that keeps warnings and errors only
    stream, undo = _capture("o2o.request", logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))
    logging.getLogger("o2o.request").setLevel(logging.WARNING)

    def broken_error_page(request):
        raise RuntimeError("the 500 page itself failed")

    try:
        # when one request answers 503 and another fails outright
        answered = RequestIdMiddleware(lambda request: HttpResponse(status=503))(
            rf.get("/checkout/", HTTP_X_REQUEST_ID="req-503-0001")
        )
        with pytest.raises(RuntimeError):
            RequestIdMiddleware(broken_error_page)(rf.post("/checkout/", HTTP_X_REQUEST_ID="req-500-0001"))
        RequestIdMiddleware(lambda request: HttpResponse())(rf.get("/", HTTP_X_REQUEST_ID="req-200-0001"))
    finally:
        undo()

    # then both failures are logged with their ids, the 200 is not, and no id is left current
    lines = stream.getvalue().splitlines()
    assert answered["X-Request-ID"] == "req-503-0001"
    assert [line.split(" ms")[0].rsplit(" ", 1)[0] for line in lines] == [
        "ERROR [req-503-0001] GET /checkout/ 503",
        "ERROR [req-500-0001] POST /checkout/ 500",
    ]
    assert current_request_id.get() is None


def test_accepted_request_id_makes_a_new_one_for_none():
    assert len(accepted_request_id(None)) == 32
    assert accepted_request_id(None) != accepted_request_id(None)


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_are_off_by_default(db, client):
    assert django_settings.OPS_METRICS is False
    assert client.get(reverse("ops:metrics")).status_code == 404


@pytest.fixture
def metrics_on(settings):
    settings.OPS_METRICS = True
    settings.MIDDLEWARE = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *settings.MIDDLEWARE,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
    metrics.connect_signals()
    yield
    from django.db.models.signals import post_save

    from orders.models import Order

    post_save.disconnect(sender=Order, dispatch_uid="ops.metrics.checkouts")
    signals.before_task_publish.disconnect(dispatch_uid="ops.metrics.publish")
    signals.task_prerun.disconnect(dispatch_uid="ops.metrics.prerun")
    signals.task_postrun.disconnect(dispatch_uid="ops.metrics.postrun")
    signals.worker_ready.disconnect(dispatch_uid="ops.metrics.worker")


def _sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_checkouts_tasks_and_the_outbox(
    metrics_on, db, client, django_capture_on_commit_callbacks
):
    # given the counts so far (the registry lives as long as the process)
    checkouts = _sample("o2o_checkouts_total", channel="web")
    tasks = _sample("o2o_task_duration_seconds_count", task="ops.tasks.beat_heartbeat")
    succeeded = _sample("o2o_tasks_total", task="ops.tasks.beat_heartbeat", state="success")
    requests = _sample("django_http_requests_total_by_method_total", method="GET")

    # when two orders are placed, a task runs and a page is requested
    store = StoreFactory()
    product = ProductFactory(price=Decimal("1990"))
    StockLevelFactory(store=store, product=product, on_hand=5)
    with django_capture_on_commit_callbacks(execute=True):
        place_order(store=store, products_and_quantities=[(product, 1)])
        place_order(store=store, products_and_quantities=[(product, 1)])
    beat_heartbeat.apply()
    client.get(reverse("ops:liveness"))

    # then the metrics count them, and the endpoint shows them with the outbox's gauges
    assert _sample("o2o_checkouts_total", channel="web") == checkouts + 2
    assert _sample("o2o_task_duration_seconds_count", task="ops.tasks.beat_heartbeat") == tasks + 1
    assert _sample("o2o_tasks_total", task="ops.tasks.beat_heartbeat", state="success") == succeeded + 1
    assert _sample("django_http_requests_total_by_method_total", method="GET") == requests + 1
    body = client.get(reverse("ops:metrics")).content.decode()
    assert "o2o_outbox_backlog 0.0" in body
    assert "o2o_outbox_oldest_pending_seconds 0.0" in body
    assert 'o2o_checkouts_total{channel="web"}' in body
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in body


def test_a_rolled_back_order_is_no_checkout(metrics_on, db, django_capture_on_commit_callbacks):
    checkouts = _sample("o2o_checkouts_total", channel="web")
    store = StoreFactory()
    product = ProductFactory(price=Decimal("1990"))
    StockLevelFactory(store=store, product=product, on_hand=5)
    # no commit: the on_commit callbacks are dropped with the transaction
    with django_capture_on_commit_callbacks(execute=False):
        place_order(store=store, products_and_quantities=[(product, 1)])
    assert _sample("o2o_checkouts_total", channel="web") == checkouts


def test_the_metrics_endpoint_is_for_operators_only(metrics_on, db, client, settings):
    settings.OPS_TOKEN = "a-long-operator-token"
    assert client.get(reverse("ops:metrics"), REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get(reverse("ops:metrics"), HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    response = client.get(
        reverse("ops:metrics"), REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer a-long-operator-token"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
