"""System checks of the orders app (registered in OrdersConfig.ready, run at start-up)."""

from django.conf import settings
from django.core.checks import Error
from django.utils.module_loading import import_string

from .models import NotificationKind


def check_notification_emails(app_configs=None, **kwargs) -> list[Error]:
    """Every NotificationKind has an e-mail builder in O2O_NOTIFICATION_EMAILS, and every path
    there imports to a callable: an e-mail that cannot be built stops the shop from starting,
    instead of failing in the worker when a shopper is due it."""
    declared = getattr(settings, "O2O_NOTIFICATION_EMAILS", None)
    if not isinstance(declared, dict):
        return [
            Error(
                "O2O_NOTIFICATION_EMAILS must be a dict {notification kind: dotted path to an e-mail builder}.",
                id="orders.E001",
            )
        ]
    errors = [
        Error(
            f"O2O_NOTIFICATION_EMAILS has no e-mail builder for notifications of kind {kind.value!r}.",
            hint="Add the dotted path of a callable taking the order and returning an EmailMessage.",
            id="orders.E001",
        )
        for kind in NotificationKind
        if kind.value not in declared
    ]
    for kind, path in declared.items():
        if kind not in NotificationKind.values:
            errors.append(
                Error(
                    f"O2O_NOTIFICATION_EMAILS names {kind!r}, which is not a notification kind.",
                    hint=f"The kinds are {', '.join(NotificationKind.values)} (orders.models.NotificationKind).",
                    id="orders.E003",
                )
            )
            continue
        try:
            builder = import_string(path)
        except ImportError as error:
            errors.append(
                Error(
                    f"O2O_NOTIFICATION_EMAILS[{kind!r}] = {path!r} does not import: {error}",
                    id="orders.E002",
                )
            )
            continue
        if not callable(builder):
            errors.append(Error(f"O2O_NOTIFICATION_EMAILS[{kind!r}] = {path!r} is not callable.", id="orders.E002"))
    return errors
