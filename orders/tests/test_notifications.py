"""The notification outbox: claims, retries with backoff, the relay, lost workers and resends.

Tasks run in-process here (eagerly); orders/tests/test_outbox_faults.py runs the same paths with
a real worker and a real Redis that is stopped, started and killed under it.
"""

import datetime
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from checkout.tests.test_checkout_busy_database import other_connection
from o2o_site.celery import app
from orders import tasks
from orders.models import Notification, NotificationKind, NotificationStatus
from orders.notifications import messages, outbox
from orders.notifications.decisions import confirm_notifications_sent, resend_notifications
from orders.notifications.delivery import deliver_notification, retry_delay
from orders.notifications.relay import relay_notifications
from orders.tests.factories import place_order
from pickup.services import mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

FAILING_BACKEND = "orders.tests.mail_backends.FailingBackend"
RECORDING_BACKEND = "orders.tests.mail_backends.RecordingBackend"


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def grunerlokka():
    return StoreFactory(name="Grünerløkka", city="Oslo", country="NO", time_zone="Europe/Oslo")


@pytest.fixture
def mittens(laugavegur, grunerlokka):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    StockLevelFactory(store=grunerlokka, product=product, on_hand=5)
    return product


@pytest.fixture
def order(laugavegur, mittens):
    return place_order(store=laugavegur, products_and_quantities=[(mittens, 1)], email="anna@example.com")


@pytest.fixture
def manager(laugavegur):
    return StoreManagerFactory(username="gunnar", stores=[laugavegur])


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(tasks.send_notification, "apply_async", _unreachable)


def ready_without_sending(order, django_capture_on_commit_callbacks):
    """Mark ready, committing, but drop the after-commit dispatch (as if the broker had lost it)."""
    with django_capture_on_commit_callbacks(execute=False):
        mark_ready_for_pickup(order=order)
    return Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)


def age(notification, **delta):
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - datetime.timedelta(**delta))


def test_with_the_broker_down_marking_ready_succeeds_and_the_relay_sends_it_later(
    order, manager, broker_down, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    # when the manager marks the order ready while the broker is unreachable
    with django_capture_on_commit_callbacks(execute=True):
        ready = mark_ready_for_pickup(order=order, by=manager)

    # then the order is ready, the notification waits in the database, not queued, nothing sent
    assert ready.status == "ready_for_pickup"
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
    assert (notification.status, notification.dispatched_at) == (NotificationStatus.PENDING, None)
    assert outbox.waiting_for_the_broker(orders=[order], kind=NotificationKind.READY_FOR_PICKUP) == 1
    assert mailoutbox == []

    # when the relay runs while the broker is still down
    age(notification, seconds=10)
    report = relay_notifications()

    # then it stops at the first failure and keeps the row for later
    assert (report.queued, report.waiting, report.broker_down) == (0, 1, True)

    # when the broker is back and the relay runs again
    monkeypatch.undo()
    report = relay_notifications()

    # then the e-mail goes out, once
    assert (report.queued, report.broker_down) == (1, False)
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert relay_notifications().queued == 0
    assert len(mailoutbox) == 1


def test_the_relay_leaves_fresh_and_recently_queued_rows_to_their_task(
    order, mailoutbox, django_capture_on_commit_callbacks
):
    # given a notification written a moment ago whose after-commit dispatch has not run yet
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)

    # when the relay runs, then it does not race the request's own dispatch
    assert relay_notifications().queued == 0

    # given it was queued to the broker 10 seconds ago (its task is on the way)
    age(notification, minutes=1)
    queued_at = timezone.now() - datetime.timedelta(seconds=10)
    Notification.objects.filter(pk=notification.pk).update(dispatched_at=queued_at)

    # then the relay still leaves it alone
    assert relay_notifications().queued == 0

    # given the task never arrived (a broker restarted without persistence)
    Notification.objects.filter(pk=notification.pk).update(dispatched_at=timezone.now() - datetime.timedelta(minutes=1))

    # then the relay queues it again and it is sent once
    assert relay_notifications().queued == 1
    assert len(mailoutbox) == 1


@pytest.mark.postgres
def test_the_relay_skips_a_row_another_relay_holds_and_does_not_wait_for_it(
    require_postgres, transactional_db, laugavegur, mittens, mailoutbox, monkeypatch
):
    # given two orders (their "order received" e-mails sent) marked ready a minute ago while the broker was down
    orders = [place_order(store=laugavegur, products_and_quantities=[(mittens, 1)]) for _ in range(2)]
    mailoutbox.clear()
    with monkeypatch.context() as down:
        down.setattr(tasks.send_notification, "apply_async", _unreachable)
        for order in orders:
            mark_ready_for_pickup(order=order)
    held, free = (Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP) for order in orders)
    Notification.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=1))

    # and another relay (another process) has locked the first row and is queuing it right now
    other_relay = other_connection()
    other_relay.execute(f"SELECT id FROM {Notification._meta.db_table} WHERE id = %s FOR UPDATE", [held.pk])
    try:
        # when this relay runs (were it to wait for that lock, it would fail after 3 s)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        started = time.monotonic()
        report = relay_notifications()
        took = time.monotonic() - started
    finally:
        other_relay.rollback()
        other_relay.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    # then it queued the free row at once and left the held one to its holder
    assert (report.queued, report.broker_down) == (1, False)
    assert took < 1
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.status, held.dispatched_at) == (NotificationStatus.PENDING, None)
    assert free.status == NotificationStatus.SENT
    assert [message.to for message in mailoutbox] == [[free.recipient]]

    # when the other relay let go without queuing it, then the next pass sends it, once
    assert relay_notifications().queued == 1
    assert len(mailoutbox) == 2
    assert relay_notifications().queued == 0


def _unreachable(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_an_email_backend_that_keeps_failing_ends_failed_after_bounded_retries_with_backoff(
    order, manager, settings, django_capture_on_commit_callbacks
):
    # given a mail server that refuses everything and 4 tries allowed
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.NOTIFICATION_MAX_ATTEMPTS = 4

    # when the order is marked ready (the task and its retries run in-process)
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)

    # then it was tried 4 times and is marked failed with the mail server's error
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
    assert (notification.status, notification.attempts, notification.sent_at) == (NotificationStatus.FAILED, 4, None)
    assert "SMTPServerDisconnected: mail.example.com closed the connection" in notification.last_error
    assert notification.claim_token == ""


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap(settings):
    settings.NOTIFICATION_RETRY_BACKOFF = 30
    settings.NOTIFICATION_RETRY_BACKOFF_MAX = 600

    delays = [retry_delay(attempt=attempt) for attempt in range(1, 9)]

    for attempt, delay in enumerate(delays[:5], start=1):
        expected = 30 * 2 ** (attempt - 1)
        assert 0.75 * expected <= delay <= 1.25 * expected
    assert all(0.75 * 600 <= delay <= 1.25 * 600 for delay in delays[5:])


def test_a_worker_lost_before_talking_to_the_mail_server_is_sent_again_once(
    order, mailoutbox, settings, django_capture_on_commit_callbacks
):
    # given a delivery claimed the row 2 minutes ago and its worker died before sending
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING,
        claim_token="task-that-died",
        claimed_at=timezone.now() - datetime.timedelta(minutes=2),
        attempts=1,
    )

    # when the relay runs
    report = relay_notifications()

    # then the abandoned claim is taken over and the e-mail sent exactly once
    assert report.recovered == 1
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)


def test_a_claim_being_worked_on_is_left_alone(order, mailoutbox, django_capture_on_commit_callbacks):
    # given another worker claimed the row a second ago and is sending right now
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING, claim_token="busy-task", claimed_at=timezone.now()
    )

    # when a duplicate task and the relay run, then neither sends
    assert deliver_notification(notification_id=notification.pk, claim_token="duplicate-task") is False
    assert relay_notifications().recovered == 0
    assert mailoutbox == []


def test_the_same_task_redelivered_after_its_worker_died_resumes_its_own_claim(
    order, mailoutbox, django_capture_on_commit_callbacks
):
    # given task "t-1" claimed the row (a second ago) and its worker process was killed
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING, claim_token="t-1", claimed_at=timezone.now(), attempts=1
    )

    # when the broker hands the same task (same id) to another worker
    sent = deliver_notification(notification_id=notification.pk, claim_token="t-1")

    # then it knows the claim is its own, from a dead process, and sends
    assert sent is True
    assert len(mailoutbox) == 1


def test_a_worker_lost_while_handing_over_to_plain_smtp_is_unconfirmed_never_resent_automatically(
    order, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given the worker died after it started handing the message to a mail server that cannot be asked
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)
    started = timezone.now() - datetime.timedelta(minutes=2)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING, claim_token="t-1", claimed_at=started, send_started_at=started, attempts=1
    )

    # when the relay and a redelivered task run
    relay_notifications()
    assert deliver_notification(notification_id=notification.pk, claim_token="t-1") is False

    # then nothing is sent automatically: the row says a person must check
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.UNCONFIRMED
    assert "may or may not have arrived" in notification.last_error
    assert mailoutbox == []

    # when the manager resends it after checking with the shopper
    with django_capture_on_commit_callbacks(execute=True):
        assert resend_notifications(notifications=[notification], by=manager) == 1

    # then it is sent once
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert len(mailoutbox) == 1


def test_a_mail_server_that_can_be_asked_settles_a_lost_worker_without_a_person(
    order, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    # given a mail server that can say whether it accepted a message, and one it did accept
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    settings.EMAIL_BACKEND = RECORDING_BACKEND
    notification = ready_without_sending(order, django_capture_on_commit_callbacks)
    messages.build_message(notification).send()
    started = timezone.now() - datetime.timedelta(minutes=2)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING, claim_token="t-1", claimed_at=started, send_started_at=started, attempts=1
    )

    # when the relay takes over the abandoned claim
    relay_notifications()

    # then the mail server's answer settles it as sent, and it is not sent a second time
    notification.refresh_from_db()
    assert (notification.status, notification.sent_at) == (NotificationStatus.SENT, started)
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_resend_and_confirm_are_scoped_to_the_managers_stores(
    laugavegur, grunerlokka, mittens, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given a failed notification at each store
    failed = []
    for store in (laugavegur, grunerlokka):
        order = place_order(store=store, products_and_quantities=[(mittens, 1)])
        notification = ready_without_sending(order, django_capture_on_commit_callbacks)
        Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED)
        failed.append(notification)

    # when the Laugavegur manager resends both and confirms both
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend_notifications(notifications=failed, by=manager)
    confirmed = confirm_notifications_sent(notifications=failed, by=manager)

    # then only Laugavegur's went out; Oslo's is untouched
    assert (resent, confirmed) == (1, 0)
    assert [message.to for message in mailoutbox] == [["anna@example.com"]]
    assert Notification.objects.get(pk=failed[1].pk).status == NotificationStatus.FAILED


def test_a_sent_notification_is_never_resent(order, manager, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)

    with django_capture_on_commit_callbacks(execute=True):
        assert resend_notifications(notifications=[notification], by=manager) == 0
    assert len(mailoutbox) == 1


def test_managers_see_the_failure_and_resend_from_the_admin(
    client, order, manager, grunerlokka, mittens, settings, django_capture_on_commit_callbacks
):
    # given the Laugavegur order's e-mail failed for good, and so did one at Grünerløkka
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    oslo_order = place_order(store=grunerlokka, products_and_quantities=[(mittens, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
        mark_ready_for_pickup(order=oslo_order)
    ours, theirs = (
        Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP),
        Notification.objects.get(order=oslo_order, kind=NotificationKind.READY_FOR_PICKUP),
    )
    client.force_login(manager)

    # when the manager lists failed notifications
    listing = client.get(reverse("admin:orders_notification_changelist"), {"status__exact": "failed"})

    # then theirs is listed with the mail server's error, the other store's is not
    page = listing.content.decode()
    assert order.number in page and "mail.example.com closed the connection" in page
    assert oslo_order.number not in page

    # when the mail server works again and the manager resends both (one id is another store's)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:orders_notification_changelist"),
            {"action": "resend", "_selected_action": [ours.pk, theirs.pk]},
            follow=True,
        )

    # then their own e-mail went out once and they are told; the other store's stays failed
    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [["anna@example.com"]]
    assert "1 e-mail queued again" in response.content.decode()
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.status, theirs.status) == (NotificationStatus.SENT, NotificationStatus.FAILED)


@pytest.mark.django_db(transaction=True)
def test_the_admin_says_the_email_is_queued_when_the_broker_is_down(client, order, manager, broker_down, mailoutbox):
    client.force_login(manager)

    # when the manager marks the order ready while the broker is unreachable (committed for real:
    # the after-commit hook tries the broker before the page is answered)
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "mark_ready_for_pickup", "_selected_action": [order.pk]},
        follow=True,
    )

    # then the order is ready and they are told the e-mail is queued
    page = response.content.decode()
    assert "1 order is ready for pickup" in page
    assert "The e-mail is queued" in page
    notification = Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP)
    assert (notification.status, notification.dispatched_at) == ("pending", None)
    assert [message.subject for message in mailoutbox] == [f"We have received your order {order.number}"]


def test_the_relay_command_queues_what_the_broker_missed(
    order, broker_down, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    # given an order marked ready while the broker was down, a minute ago
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)
    age(Notification.objects.get(order=order, kind=NotificationKind.READY_FOR_PICKUP), minutes=1)

    # when an operator runs the relay while the broker is still down, then it says so
    out = StringIO()
    call_command("relay_notifications", stdout=out)
    assert "queued 0, still waiting 1, recovered 0 (broker unreachable)" in out.getvalue()

    # when the broker is back, then the command queues it and the e-mail goes out
    monkeypatch.undo()
    out = StringIO()
    call_command("relay_notifications", stdout=out)
    assert "queued 1, still waiting 0, recovered 0" in out.getvalue()
    assert len(mailoutbox) == 1


def test_celery_beat_runs_the_relay_and_the_worker_knows_the_task():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert 0 < schedule["orders.scheduled.relay_notifications"] <= 60
    app.loader.import_default_modules()  # what a worker does at start (CELERY_IMPORTS)
    assert {"orders.scheduled.relay_notifications", "orders.tasks.send_notification"} <= set(app.tasks)
