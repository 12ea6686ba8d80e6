"""The notification outbox against real faults: Redis stopped and started, a worker SIGKILLed.

Each test starts a redis-server of its own on a free port (so stopping it harms nobody else) and
real `celery worker -B` processes (beat embedded, running the relay every second) on the test's
PostgreSQL database. E-mails go to orders.tests.mail_backends.RecordingBackend, which writes one
file per message and can pause inside a send, so the test can kill the worker right there.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import pytest
import redis
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout.tests.test_checkout_busy_database import checkout_form
from conftest import _missing
from orders.models import Notification, NotificationKind, NotificationStatus, Order
from orders.notifications.decisions import resend_notifications
from orders.tests.factories import place_order
from orders.tests.test_worker import REPO_ROOT, database_url_of_this_test_run, sending_to
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

START_TIMEOUT = 30
RECOVERY_TIMEOUT = 60  # "within a minute of Redis coming back"
REQUEST_LIMIT = 2.0  # seconds, with the broker down


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server this test owns: no persistence, its own port, stopped and started at will."""

    def __init__(self, *, directory):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process = None

    def start(self):
        self._log = open(self.directory / f"redis-{self.port}.log", "ab")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        pytest.fail(f"redis-server on port {self.port} did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # in case it was frozen
            self.process.terminate()
            self.process.wait(timeout=10)
            self._log.close()

    def freeze(self):
        """SIGSTOP: connections are still accepted, but nothing is ever answered (a hung host)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    if shutil.which("redis-server") is None:
        _missing("needs redis-server (apt-get install redis-server) to stop and start a broker of its own")
    server = RedisServer(directory=tmp_path)
    server.start()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration, so this
    # process sends to the test's own server only with the variable pointing there too.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    yield server
    server.stop()


class Worker:
    """`celery worker -B` with its log in a file, in a process group of its own.

    The solo pool runs tasks in the worker's own process (a SIGKILL kills the task too); the
    prefork pool, as in production, runs them in a child process the worker replaces if it dies.
    """

    def __init__(self, *, broker_url, queue, mail_dir, log_path, beat=True, pool="solo", consumes=None, **extra_env):
        """queue: the worker's default queue (where it sends what it queues); consumes: the queue
        it takes tasks from, `queue` unless given."""
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "o2o_site.settings",
            "DATABASE_URL": database_url_of_this_test_run(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "EMAIL_BACKEND": "orders.tests.mail_backends.RecordingBackend",
            "MAIL_DIR": str(mail_dir),
            "NOTIFICATION_RELAY_INTERVAL": "1",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "o2o_site",
            "worker",
            # Embedded beat runs in a child process; a worker about to be SIGKILLed runs none,
            # so no orphan is left behind.
            *(["--beat", f"--schedule={log_path.with_suffix('.beat')}"] if beat else []),
            f"--pool={pool}",
            *(["--concurrency=1"] if pool == "prefork" else []),
            f"--queues={consumes or queue}",
            f"--hostname={consumes or queue}-{uuid.uuid4().hex[:6]}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_until(lambda: " ready." in self.log(), timeout=START_TIMEOUT, what="worker start-up")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_until(self, condition, *, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return time.monotonic() - (deadline - timeout)
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode} while waiting for {what}:\n{self.log()}")
            time.sleep(0.2)
        pytest.fail(f"no {what} within {timeout} s; worker log:\n{self.log()}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def kill_everything(self):
        """SIGKILL the worker and every process it started (a lost machine, a killed container)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a pool or beat process left behind
        if not self._log.closed:
            self._log.close()


def emails_in(mail_dir):
    return sorted(mail_dir.glob("*.eml"))


def ready_notification(order):
    return Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)


def status_of(order):
    return ready_notification(order).status


def received_status(order):
    return Notification.objects.get(order=order, kind=NotificationKind.ORDER_RECEIVED).status


@pytest.fixture
def laugavegur(require_postgres, transactional_db):
    store = StoreFactory(name="Laugavegur")
    return store


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=10)
    return product


@pytest.fixture
def mail_dir(tmp_path):
    directory = tmp_path / "mail"
    directory.mkdir()
    return directory


@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_with_redis_down_the_shop_keeps_working_and_every_email_goes_out_once_it_is_back(
    own_redis, laugavegur, mittens, mail_dir, tmp_path, outage, settings
):
    # The action moves each order in its own transaction on purpose (conftest.ZEAL_ALLOWLIST says
    # why), and each writes its own notification row: one get_or_create per order, not an N+1.
    settings.ZEAL_ALLOWLIST = [*settings.ZEAL_ALLOWLIST, {"model": "orders.Notification", "field": "get()"}]

    # given a worker (with the relay on beat) and three orders placed at Laugavegur
    queue = f"o2o-test-{uuid.uuid4().hex[:12]}"
    orders = [
        place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email=f"shopper{n}@example.com")
        for n in range(3)
    ]
    manager = StoreManagerFactory(stores=[laugavegur])
    worker = Worker(broker_url=own_redis.url, queue=queue, mail_dir=mail_dir, log_path=tmp_path / "worker.log")
    staff, shopper = Client(), Client()
    staff.force_login(manager)
    try:
        with sending_to(broker_url=own_redis.url, queue=queue):
            # when Redis stops, or hangs (it accepts connections and never answers)
            own_redis.stop() if outage == "stopped" else own_redis.freeze()

            # then the manager marks the three orders ready within 2 seconds and is told the e-mails are queued
            started = time.monotonic()
            response = staff.post(
                reverse("admin:orders_order_changelist"),
                {"action": "mark_ready_for_pickup", "_selected_action": [order.pk for order in orders]},
                follow=True,
            )
            marking_took = time.monotonic() - started
            assert response.status_code == 200
            assert "The 3 e-mails are queued" in response.content.decode()
            assert marking_took < REQUEST_LIMIT, f"marking ready took {marking_took:.2f} s with Redis {outage}"
            assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
                "ready_for_pickup"
            }

            # and a shopper checks out within 2 seconds
            shopper.post(reverse("checkout:cart_add"), {"product_id": mittens.pk, "quantity": "1"})
            form = checkout_form(shopper, store=laugavegur)
            started = time.monotonic()
            placed = shopper.post(reverse("checkout:checkout"), form)
            checkout_took = time.monotonic() - started
            assert placed.status_code == 302
            assert checkout_took < REQUEST_LIMIT, f"checkout took {checkout_took:.2f} s with Redis {outage}"
            assert Order.objects.count() == 4
            checked_out = Order.objects.exclude(pk__in=[order.pk for order in orders]).get()

            # and the notifications (three "ready", the new order's "received") wait in the database;
            # nothing was sent
            time.sleep(2)
            assert {status_of(order) for order in orders} == {NotificationStatus.PENDING}
            assert received_status(checked_out) == NotificationStatus.PENDING
            assert emails_in(mail_dir) == []

            # when Redis comes back
            own_redis.start() if outage == "stopped" else own_redis.thaw()
            back = time.monotonic()

            # then within a minute every e-mail has gone out, exactly once
            worker.wait_until(
                lambda: (
                    {status_of(order) for order in orders} == {NotificationStatus.SENT}
                    and received_status(checked_out) == NotificationStatus.SENT
                ),
                timeout=RECOVERY_TIMEOUT,
                what="the queued e-mails after Redis came back",
            )
            assert time.monotonic() - back < RECOVERY_TIMEOUT
            time.sleep(3)  # a few more relay passes: still one each
            sent = [path.read_text(errors="replace") for path in emails_in(mail_dir)]
            assert len(sent) == 4
            assert all(sum(order.number in text for text in sent) == 1 for order in [*orders, checked_out])
    finally:
        worker.stop()


@pytest.mark.parametrize("killed", ["before", "after"])
def test_a_worker_killed_while_sending_ends_with_exactly_one_email(
    own_redis, laugavegur, mittens, mail_dir, tmp_path, killed
):
    # given a worker whose mail server hangs right before (or right after) accepting the message
    queue = f"o2o-test-{uuid.uuid4().hex[:12]}"
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")
    first = Worker(
        broker_url=own_redis.url,
        queue=queue,
        mail_dir=mail_dir,
        log_path=tmp_path / "first.log",
        beat=False,
        MAIL_PAUSE=killed,
    )
    second = None
    try:
        with sending_to(broker_url=own_redis.url, queue=queue):
            mark_ready_for_pickup(order=order)
            first.wait_until(
                lambda: (mail_dir / f"paused-{killed}").exists(), timeout=START_TIMEOUT, what="the send to start"
            )

            # when the worker is SIGKILLed in the middle of the send
            first.kill()

            # then the row shows a claim that was handed to the mail server
            notification = ready_notification(order)
            assert notification.status == NotificationStatus.SENDING
            assert notification.send_started_at is not None
            assert len(emails_in(mail_dir)) == (1 if killed == "after" else 0)

            # when a new worker runs (its relay treats claims older than 2 s as abandoned)
            second = Worker(
                broker_url=own_redis.url,
                queue=queue,
                mail_dir=mail_dir,
                log_path=tmp_path / "second.log",
                NOTIFICATION_CLAIM_TIMEOUT="2",
            )

            # then the notification ends sent, and exactly one e-mail exists
            second.wait_until(
                lambda: status_of(order) == NotificationStatus.SENT,
                timeout=RECOVERY_TIMEOUT,
                what="the notification to be settled",
            )
            time.sleep(3)  # more relay passes change nothing
            assert len(emails_in(mail_dir)) == 1
            notification.refresh_from_db()
            assert notification.status == NotificationStatus.SENT
            assert notification.attempts == (2 if killed == "before" else 1)
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()


@pytest.mark.parametrize(
    ("killed", "when"),
    [("the process sending", "before"), ("the whole worker", "after")],
)
def test_the_broker_delivers_a_killed_task_again_and_it_settles_its_own_claim_once(
    own_redis, laugavegur, mittens, mail_dir, tmp_path, killed, when
):
    # given a worker as in production (prefork) and no relay; the mail server hangs right
    # before (or right after) accepting the first message
    queue = f"o2o-test-{uuid.uuid4().hex[:12]}"
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")
    workers = [
        Worker(
            broker_url=own_redis.url,
            queue=queue,
            mail_dir=mail_dir,
            log_path=tmp_path / "first.log",
            beat=False,
            pool="prefork",
            MAIL_PAUSE=when,
        )
    ]
    try:
        with sending_to(broker_url=own_redis.url, queue=queue):
            mark_ready_for_pickup(order=order)
            paused = mail_dir / f"paused-{when}"
            workers[0].wait_until(paused.exists, timeout=START_TIMEOUT, what="the send to start")
            task_id = ready_notification(order).claim_token
            assert task_id

            if killed == "the process sending":
                # when the pool process doing the send is SIGKILLed (the kernel's OOM killer, say):
                # the worker sees it lost and gives the task back to the queue (reject_on_worker_lost)
                os.kill(int(paused.read_text()), signal.SIGKILL)
            else:
                # when the whole worker is SIGKILLed, the task unacknowledged (acks_late), and another
                # worker starts once Redis counts it as lost (visibility timeout 1 s)
                workers[0].kill_everything()
                time.sleep(2)
                workers.append(
                    Worker(
                        broker_url=own_redis.url,
                        queue=queue,
                        mail_dir=mail_dir,
                        log_path=tmp_path / "second.log",
                        beat=False,
                        pool="prefork",
                        CELERY_BROKER_VISIBILITY_TIMEOUT="1",
                    )
                )

            # then the same task is delivered again, recognises its own claim, and the notification
            # ends sent with exactly one e-mail (no relay ran, and no claim was old enough for one)
            workers[-1].wait_until(
                lambda: status_of(order) == NotificationStatus.SENT,
                timeout=RECOVERY_TIMEOUT,
                what="the task delivered again to settle the notification",
            )
            deliveries = sum(worker.log().count(f"[{task_id}] received") for worker in workers)
            assert deliveries == 2
            time.sleep(2)
            assert len(emails_in(mail_dir)) == 1
            assert ready_notification(order).attempts == (2 if when == "before" else 1)
    finally:
        for worker in workers:
            worker.stop()


def test_a_failing_mail_server_is_retried_with_backoff_then_failed_and_a_manager_resends_it(
    own_redis, laugavegur, mittens, mail_dir, tmp_path
):
    # given a worker whose mail server refuses everything, with 3 tries 0.5 s, 1 s apart
    queue = f"o2o-test-{uuid.uuid4().hex[:12]}"
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")
    manager = StoreManagerFactory(stores=[laugavegur])
    failing = Worker(
        broker_url=own_redis.url,
        queue=queue,
        mail_dir=mail_dir,
        log_path=tmp_path / "failing.log",
        EMAIL_BACKEND="orders.tests.mail_backends.FailingBackend",
        NOTIFICATION_MAX_ATTEMPTS="3",
        NOTIFICATION_RETRY_BACKOFF="0.5",
    )
    working = None
    try:
        with sending_to(broker_url=own_redis.url, queue=queue):
            # when the order is marked ready
            mark_ready_for_pickup(order=order, by=manager)

            # then the worker tries 3 times, retrying the task, and marks the notification failed
            failing.wait_until(
                lambda: status_of(order) == NotificationStatus.FAILED, timeout=RECOVERY_TIMEOUT, what="failed"
            )
            notification = ready_notification(order)
            assert notification.attempts == 3
            assert "SMTPServerDisconnected" in notification.last_error
            assert failing.log().count("Retry in") == 2
            failing.stop()

            # when the mail server works again and the manager resends it
            working = Worker(broker_url=own_redis.url, queue=queue, mail_dir=mail_dir, log_path=tmp_path / "ok.log")
            assert resend_notifications(notifications=[notification], by=manager) == 1

            # then it goes out, once
            working.wait_until(
                lambda: status_of(order) == NotificationStatus.SENT, timeout=RECOVERY_TIMEOUT, what="the resent e-mail"
            )
            assert len(emails_in(mail_dir)) == 1
    finally:
        failing.stop()
        if working is not None:
            working.stop()


def test_two_queues_a_killed_notifications_worker_s_email_is_taken_over_through_the_scheduled_one(
    own_redis, laugavegur, mittens, mail_dir, tmp_path
):
    # given the production layout (settings.CELERY_TASK_ROUTES): a worker on the notifications queue
    # whose mail server hangs before taking the message, and a worker on the scheduled queue with
    # beat (the relay every second; claims older than 2 s are abandoned)
    suffix = uuid.uuid4().hex[:10]
    notifications, scheduled = f"o2o-test-notifications-{suffix}", f"o2o-test-scheduled-{suffix}"
    layout = {"CELERY_SCHEDULED_QUEUE": scheduled, "NOTIFICATION_CLAIM_TIMEOUT": "2"}
    common = {"broker_url": own_redis.url, "queue": notifications, "mail_dir": mail_dir}
    order = place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")
    workers = {}
    try:
        workers["sender"] = Worker(
            **common, log_path=tmp_path / "sender.log", beat=False, MAIL_PAUSE="before", **layout
        )
        workers["scheduler"] = Worker(**common, consumes=scheduled, log_path=tmp_path / "scheduler.log", **layout)
        with sending_to(broker_url=own_redis.url, queue=notifications, scheduled_queue=scheduled):
            # when the order is marked ready, and the notifications worker is SIGKILLed in the send
            mark_ready_for_pickup(order=order)
            workers["sender"].wait_until(
                lambda: (mail_dir / "paused-before").exists(), timeout=START_TIMEOUT, what="the send to start"
            )
            workers["sender"].kill()
            assert status_of(order) == NotificationStatus.SENDING
            assert emails_in(mail_dir) == []

            # and another notifications worker runs (the scheduled worker and beat are untouched)
            workers["replacement"] = Worker(
                **common, log_path=tmp_path / "replacement.log", beat=False, MAIL_PAUSE="", **layout
            )

            # then the scheduled worker's relay hands the abandoned e-mail to the notifications queue,
            # the new worker sends it, and there is exactly one e-mail
            workers["replacement"].wait_until(
                lambda: status_of(order) == NotificationStatus.SENT,
                timeout=RECOVERY_TIMEOUT,
                what="the notification to be taken over",
            )
            time.sleep(2)  # more relay passes change nothing
            assert len(emails_in(mail_dir)) == 1
            assert ready_notification(order).attempts == 2

        # and each queue's tasks ran on its own workers only
        scheduler_log, replacement_log = workers["scheduler"].log(), workers["replacement"].log()
        assert "Task orders.scheduled.relay_notifications[" in scheduler_log
        assert "Task orders.tasks.send_notification[" not in scheduler_log
        assert "Task orders.tasks.send_notification[" in replacement_log
        assert "Task orders.scheduled.relay_notifications[" not in replacement_log
    finally:
        for worker in workers.values():
            worker.stop()
