"""Changes to shoppers' accounts."""

from typing import TYPE_CHECKING

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from .models import User

if TYPE_CHECKING:  # the store is a higher layer's model: named for the reader, never imported at run time
    from django.contrib.auth.models import AnonymousUser

    from stores.models import Store


def signed_in(user: "User | AnonymousUser | None") -> User | None:
    """The user to record as actor, customer or staff: `user` when signed in, else None (an
    anonymous visitor, a task or a command has no account to point at)."""
    return user if user is not None and user.is_authenticated else None


def set_preferred_store(*, user: User, store: "Store | None") -> None:
    """Remember `store` as the shopper's store on their account (None forgets it).

    Written with update() so a concurrent change to other account fields is never overwritten.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(preferred_store=store)
    user.preferred_store = store


def register_shopper(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    preferred_store: "Store | None" = None,
) -> User:
    """Open a shopper's account (the sign-up form has validated everything, password included)."""
    with transaction.atomic():
        return User.objects.create_user(
            username=username,
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            preferred_store=preferred_store,
        )


# A link to confirm a new e-mail address (accounts.services.email_change_token) opens for this long.
EMAIL_CHANGE_MAX_AGE_SECONDS = 2 * 24 * 60 * 60
EMAIL_CHANGE_SALT = "accounts.email-change"


class EmailChangeRefused(Exception):
    """A shopper-facing reason why a confirmation link does not change the address."""


def email_change_token(*, user: User, new_email: str) -> str:
    """A signed token for the link e-mailed to `new_email`: opening it proves the shopper reads
    that address. It names the address it replaces, so it works once, and not after another change."""
    return signing.dumps({"user": user.pk, "old": user.email, "new": new_email}, salt=EMAIL_CHANGE_SALT)


def email_change_of(token: str) -> tuple[User, str]:
    """(the user, the new address) a token asks for; raises EmailChangeRefused."""
    try:
        claim = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE_SECONDS)
    except signing.SignatureExpired as expired:
        raise EmailChangeRefused(_("This link has expired. Ask for a new one from your account.")) from expired
    except signing.BadSignature as bad:
        raise EmailChangeRefused(_("This link is not valid. Check that you opened the whole link.")) from bad
    user = User.objects.filter(pk=claim["user"], is_active=True).first()
    if user is None or user.email != claim["old"]:
        raise EmailChangeRefused(_("This link has been used already, or your e-mail address changed since."))
    if User.objects.filter(email__iexact=claim["new"]).exclude(pk=user.pk).exists():
        raise EmailChangeRefused(_("Another account uses this e-mail address now."))
    return user, claim["new"]


def change_email(*, token: str) -> tuple[User, str]:
    """Change the address a valid token asks for; (the user, the old address). Raises EmailChangeRefused."""
    with transaction.atomic():
        user, new_email = email_change_of(token)
        # Compared again as it is written: two clicks on the same link change the address once.
        changed = User.objects.filter(pk=user.pk, email=user.email).update(email=new_email)
        if not changed:
            raise EmailChangeRefused(_("This link has been used already, or your e-mail address changed since."))
    old_email, user.email = user.email, new_email
    return user, old_email
