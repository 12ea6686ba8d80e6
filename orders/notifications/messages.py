"""Building a notification's e-mail: one builder per kind, declared in one setting.

O2O_NOTIFICATION_EMAILS maps each NotificationKind value to the dotted path of a callable that
takes the order (and, for a notification with a reference, `reference=` it) and returns an
EmailMessage (like EMAIL_BACKEND names a class). The paths are
imported once, on first use; orders.checks verifies at start-up that every kind has one and that
each imports to a callable, so a typo stops the shop from starting rather than an e-mail later.
"""

import functools
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from orders.models import Notification, Order

EmailBuilder = Callable[[Order], EmailMessage]


@functools.cache
def email_builders() -> dict[str, EmailBuilder]:
    """{kind: builder}, imported from O2O_NOTIFICATION_EMAILS once per process."""
    return {kind: import_string(path) for kind, path in settings.O2O_NOTIFICATION_EMAILS.items()}


def forget_builders(*, setting: str, **kwargs: object) -> None:
    """On `setting_changed` (connected in OrdersConfig.ready): a test that overrides
    O2O_NOTIFICATION_EMAILS gets its builders, as Django does for its own cached settings."""
    if setting == "O2O_NOTIFICATION_EMAILS":
        email_builders.cache_clear()


def build_message(notification: Notification) -> EmailMessage:
    builder = email_builders().get(notification.kind)
    if builder is None:
        raise LookupError(f"no e-mail is declared for notifications of kind '{notification.kind}'")
    if notification.reference:
        message = builder(notification.order, reference=notification.reference)
    else:
        message = builder(notification.order)
    message.to = [notification.recipient]
    # The same Message-ID on every try: the mail server can be asked about it, and mail clients
    # that deduplicate show a repeated message once.
    message.extra_headers["Message-ID"] = message_id_for(notification)
    return message


def message_id_for(notification: Notification) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notification-{notification.pk}-{notification.kind}@{domain}>"
