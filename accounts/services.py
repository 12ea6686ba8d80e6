"""Changes to shoppers' accounts."""

from django.contrib.auth import get_user_model
from django.db import transaction


def set_preferred_store(*, user, store) -> None:
    """Remember `store` as the shopper's store on their account (None forgets it).

    Written with update() so a concurrent change to other account fields is never overwritten.
    """
    with transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(preferred_store=store)
    user.preferred_store = store


def register_shopper(*, username, email, password, first_name="", last_name="", preferred_store=None):
    """Open a shopper's account (the sign-up form has validated everything, password included)."""
    with transaction.atomic():
        return get_user_model().objects.create_user(
            username=username,
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            preferred_store=preferred_store,
        )
