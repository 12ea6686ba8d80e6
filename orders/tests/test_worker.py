"""The shopper's e-mails, delivered by a real Celery worker through Redis: ready for pickup,
order received and order cancelled, each exactly once.

The worker is a separate process (`python -m celery -A o2o_site worker`) reading a queue of its
own on the Redis broker, on the test database (committed data: transactional_db), and writing
e-mails to files (EMAIL_URL=filemail://…), which this test reads back.
"""

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.utils import translation

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from o2o_site.celery import app
from orders import tasks
from orders.models import CancelReason, Notification, NotificationKind, NotificationStatus, OrderActivity, OrderEvent
from orders.services import cancel_order
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

REPO_ROOT = Path(settings.BASE_DIR)
WORKER_START_TIMEOUT = 30
DELIVERY_TIMEOUT = 20
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def database_url_of_this_test_run():
    """The URL of the database this test runs on (the test database, not the configured one)."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """A `celery worker` subprocess; its log goes to a file the test can read while it runs."""

    def __init__(self, *, broker_url, queue, mail_dir, log_path):
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "o2o_site.settings",
            "DATABASE_URL": database_url_of_this_test_run(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # django-environ drops the first "/" of the path: four slashes make it absolute.
            "EMAIL_URL": f"filemail:///{mail_dir}",
            "SITE_URL": settings.SITE_URL,
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "o2o_site",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            f"--hostname={queue}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_until(self, condition, *, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode} while waiting for {what}:\n{self.log()}")
            time.sleep(0.2)
        pytest.fail(f"no {what} within {timeout} s; worker log:\n{self.log()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


@contextmanager
def sending_to(*, broker_url, queue, scheduled_queue=None):
    """Point this process's Celery app at the real broker and the worker's queue, eagerness off:
    every task to `queue`, or beat's jobs to `scheduled_queue` when given (settings.CELERY_TASK_ROUTES)."""
    names = ("broker_url", "task_always_eager", "task_default_queue", "task_routes")
    saved = {name: app.conf[name] for name in names}
    routes = {pattern: {"queue": scheduled_queue} for pattern in settings.CELERY_TASK_ROUTES} if scheduled_queue else {}
    app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue, task_routes=routes)
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections():
    # The app keeps its queues, router and producer pool from the configuration they were first
    # built with; dropping them makes the next send use the configuration set above.
    # (The pools themselves are shared per broker URL by kombu, so they are left open.)
    app.__dict__.pop("amqp", None)
    app._pool = None


def delete_queue(*, broker_url, queue):
    """Remove the test's queue and kombu's bindings for it, so runs leave nothing in Redis."""
    client = redis.Redis.from_url(broker_url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


def delivered_emails(mail_dir):
    """Every complete message the file backend has written, parsed."""
    messages = []
    for path in sorted(Path(mail_dir).glob("*.log")):
        *complete, _partial = path.read_bytes().split(MESSAGE_SEPARATOR)
        messages.extend(email.message_from_bytes(raw, policy=email.policy.default) for raw in complete)
    return messages


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def worker_queue(redis_broker_url):
    queue = f"o2o-test-{uuid.uuid4().hex[:12]}"
    yield queue
    delete_queue(broker_url=redis_broker_url, queue=queue)


def test_a_real_worker_emails_the_shopper_once_when_the_order_is_ready(
    require_postgres, redis_broker_url, transactional_db, worker_queue, tmp_path
):
    # given a placed order at Laugavegur, and a worker on its own queue writing e-mails to files
    store = StoreFactory(name="Laugavegur", address="Laugavegur 12")
    mittens = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    order = place_order(store=store, products_and_quantities=[(mittens, 2)], email="anna@example.com")
    manager = StoreManagerFactory(username="gunnar", stores=[store])
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = Worker(
        broker_url=redis_broker_url, queue=worker_queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log"
    )
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")

        with sending_to(broker_url=redis_broker_url, queue=worker_queue):
            # when the manager marks the order ready (the transaction commits; on_commit queues the task)
            mark_ready_for_pickup(order=order, by=manager)

            # then within seconds the worker has sent exactly one e-mail, with the order's number and link
            notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
            worker.wait_until(
                lambda: delivered_emails(mail_dir) and _status(notification) == NotificationStatus.SENT,
                timeout=DELIVERY_TIMEOUT,
                what="ready-for-pickup e-mail",
            )
            [sent] = delivered_emails(mail_dir)
            assert sent["To"] == "anna@example.com"
            assert order.number in sent["Subject"]
            assert order.number in text_of(sent)
            assert pickup_of(order).code in text_of(sent)
            assert order.absolute_link() in text_of(sent)
            notification.refresh_from_db()
            assert notification.sent_at is not None and notification.attempts == 1

            # when the same task reaches the worker twice more (a duplicate delivery, a retry)
            duplicates = [tasks.send_notification.delay(notification_id=notification.pk) for _ in range(2)]
            worker.wait_until(
                lambda: all(f"[{result.id}] succeeded" in worker.log() for result in duplicates),
                timeout=DELIVERY_TIMEOUT,
                what="the duplicate tasks to finish",
            )

        # then still exactly one e-mail, sent when it was first sent
        assert len(delivered_emails(mail_dir)) == 1
        sent_at = notification.sent_at
        notification.refresh_from_db()
        assert (notification.status, notification.sent_at) == (NotificationStatus.SENT, sent_at)
    finally:
        worker.stop()


def _status(notification):
    return Notification.objects.filter(pk=notification.pk).values_list("status", flat=True).get()


def test_a_real_worker_emails_order_received_and_cancelled_once_in_the_orders_language(
    require_postgres, redis_broker_url, transactional_db, worker_queue, tmp_path
):
    # given a worker on its own queue writing e-mails to files, and mittens in stock at Laugavegur
    store = StoreFactory(name="Laugavegur", address="Laugavegur 12")
    mittens = ProductFactory(name_en="Lopi mittens", name_is="Lopavettlingar", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=5)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = Worker(
        broker_url=redis_broker_url, queue=worker_queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log"
    )
    try:
        worker.wait_until(lambda: " ready." in worker.log(), timeout=WORKER_START_TIMEOUT, what="worker start-up")
        with sending_to(broker_url=redis_broker_url, queue=worker_queue):
            # when a shopper reading the shop in Icelandic places an order (on_commit queues the task)
            with translation.override("is"):
                order = place_order(
                    store=store, products_and_quantities=[(mittens, 2)], email="anna@example.com", language="is"
                )

            # then the worker sends one "order received" e-mail, in Icelandic, with the code and the link
            received = Notification.objects.get(order=order, kind=NotificationKind.ORDER_RECEIVED)
            worker.wait_until(
                lambda: _status(received) == NotificationStatus.SENT, timeout=DELIVERY_TIMEOUT, what="order received"
            )
            [sent] = delivered_emails(mail_dir)
            assert sent["To"] == "anna@example.com"
            assert sent["Subject"] == f"Við höfum móttekið pöntun {order.number}"
            assert "2 × Lopavettlingar" in text_of(sent)
            assert pickup_of(order).code in text_of(sent) and order.absolute_link() in text_of(sent)

            # when the shopper cancels it (the same path as the store and expiry, with another reason)
            cancel_order(order=order, reason=CancelReason.SHOPPER)

            # then the worker sends one "order cancelled" e-mail, in Icelandic, saying why
            cancelled = Notification.objects.get(order=order, kind=NotificationKind.ORDER_CANCELLED)
            worker.wait_until(
                lambda: _status(cancelled) == NotificationStatus.SENT, timeout=DELIVERY_TIMEOUT, what="order cancelled"
            )
            second = next(message for message in delivered_emails(mail_dir) if message["Subject"] != sent["Subject"])
            assert second["Subject"] == f"Hætt var við pöntun {order.number}"
            assert f"Þú hættir við pöntun {order.number}." in text_of(second)

            # when both tasks reach the worker twice more (a duplicate delivery, a retry)
            duplicates = [
                tasks.send_notification.delay(notification_id=notification.pk)
                for notification in (received, cancelled, received, cancelled)
            ]
            worker.wait_until(
                lambda: all(f"[{result.id}] succeeded" in worker.log() for result in duplicates),
                timeout=DELIVERY_TIMEOUT,
                what="the duplicate tasks to finish",
            )

        # then still exactly one of each, and the order's timeline shows each once, in Icelandic
        assert sorted(message["Subject"] for message in delivered_emails(mail_dir)) == sorted(
            [f"Við höfum móttekið pöntun {order.number}", f"Hætt var við pöntun {order.number}"]
        )
        notes = OrderEvent.objects.filter(order=order, kind=OrderActivity.EMAILED).values_list("note", flat=True)
        assert list(notes) == ["Pöntun móttekin", "Hætt við pöntun"]
        assert Notification.objects.filter(order=order).count() == 2
    finally:
        worker.stop()
