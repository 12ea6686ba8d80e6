"""Changes to shoppers' accounts."""

from typing import TYPE_CHECKING

from django.db import transaction

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
