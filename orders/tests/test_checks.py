"""The start-up check of the e-mail registry (O2O_NOTIFICATION_EMAILS): every kind has a builder
that imports, or the shop does not start."""

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from orders.checks import check_notification_emails
from orders.models import Notification, NotificationKind, Order
from orders.notifications.messages import build_message, email_builders

# The shop's own registry, as settings.py declares it (the tests below spoil a copy of it).
DECLARED = dict(django_settings.O2O_NOTIFICATION_EMAILS)


def errors_with(settings, declared):
    settings.O2O_NOTIFICATION_EMAILS = declared
    return [(error.id, error.msg) for error in check_notification_emails()]


def test_the_shops_registry_declares_a_builder_for_every_kind_and_passes(settings):
    assert set(settings.O2O_NOTIFICATION_EMAILS) == set(NotificationKind.values)
    assert check_notification_emails() == []
    assert all(callable(builder) for builder in email_builders().values())


def test_a_kind_without_a_builder_is_an_error(settings):
    declared = {kind: path for kind, path in DECLARED.items() if kind != "order_cancelled"}

    assert errors_with(settings, declared) == [
        ("orders.E001", "O2O_NOTIFICATION_EMAILS has no e-mail builder for notifications of kind 'order_cancelled'.")
    ]


@pytest.mark.parametrize(
    "path",
    ["orders.emails.no_such_builder", "orders.no_such_module.builder", "not_a_dotted_path"],
)
def test_a_path_that_does_not_import_is_an_error(settings, path):
    [(error_id, message)] = errors_with(settings, {**DECLARED, "ready_for_pickup": path})

    assert error_id == "orders.E002"
    assert f"O2O_NOTIFICATION_EMAILS['ready_for_pickup'] = {path!r} does not import" in message


def test_a_path_to_something_not_callable_is_an_error(settings):
    assert errors_with(settings, {**DECLARED, "pickup_reminder": "orders.emails.settings"}) == [
        ("orders.E002", "O2O_NOTIFICATION_EMAILS['pickup_reminder'] = 'orders.emails.settings' is not callable.")
    ]


def test_a_kind_that_does_not_exist_is_an_error(settings):
    [(error_id, message)] = errors_with(settings, {**DECLARED, "order_expired": "orders.emails.order_cancelled_email"})

    assert error_id == "orders.E003"
    assert "'order_expired', which is not a notification kind" in message


def test_a_registry_that_is_not_a_dict_is_an_error(settings):
    assert [error_id for error_id, _message in errors_with(settings, ["orders.emails.order_received_email"])] == [
        "orders.E001"
    ]


def test_the_check_runs_at_start_up_and_stops_the_shop(settings):
    # the check is registered with Django's system checks (manage.py check, runserver, migrate)
    assert check_notification_emails in checks.registry.registry.get_checks()
    settings.O2O_NOTIFICATION_EMAILS = {**DECLARED, "order_received": "orders.emails.typo"}

    with pytest.raises(SystemCheckError, match="orders.E002"):
        call_command("check")


def test_builders_are_resolved_once_and_follow_the_setting(settings):
    # resolved once per process: the same dict on every call
    assert email_builders() is email_builders()

    # a changed setting (a test overriding it) is picked up
    settings.O2O_NOTIFICATION_EMAILS = {**DECLARED, "order_received": "orders.emails.order_cancelled_email"}
    assert email_builders()["order_received"].__name__ == "order_cancelled_email"


def test_a_kind_missing_from_the_registry_cannot_be_built(settings):
    settings.O2O_NOTIFICATION_EMAILS = {}
    notification = Notification(order=Order(number="ABC"), kind=NotificationKind.ORDER_RECEIVED)

    with pytest.raises(LookupError, match="no e-mail is declared for notifications of kind 'order_received'"):
        build_message(notification)
