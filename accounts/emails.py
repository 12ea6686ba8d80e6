"""The account e-mails of our own: the link that confirms a new address, and the notice to the
old one. (The password reset e-mail is Django's PasswordResetForm with our templates.) Sent at
once, in the shopper's language: nothing is written to the database before them."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models import User


def send_email_change_link(*, user: User, new_email: str, link: str) -> None:
    """To the new address: open `link` to make it the account's."""
    send_mail(
        _("Confirm your new e-mail address"),
        render_to_string("accounts/email/email_change_link.txt", {"user": user, "link": link}),
        settings.DEFAULT_FROM_EMAIL,
        [new_email],
    )


def send_email_changed_notice(*, user: User, old_email: str) -> None:
    """To the old address: the account's e-mail changed (and what to do if that was not you)."""
    send_mail(
        _("Your e-mail address was changed"),
        render_to_string("accounts/email/email_changed_notice.txt", {"user": user, "old_email": old_email}),
        settings.DEFAULT_FROM_EMAIL,
        [old_email],
    )
