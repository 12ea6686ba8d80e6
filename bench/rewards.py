"""Rewards members in the checkout rush: every `every`-th pickup shopper is a signed-in member who
uses `points` of her balance as money off at checkout (rewards.services.reserve_for_order, under
her account's row lock, in the checkout's transaction). Her checkout POST is timed on its own
("with points"), against the same target as every checkout.

The members are made here before each round, idempotent for `bench/run --reuse`: a user per
member (no password: she arrives signed in, with a session written straight into the session
table, so no password hashing loads the server while it is measured), her rewards account, and
points topped up through the ledger (rewards.services.earn_in_store, one till receipt per member
and round) so every member can pay `points` in every round.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.module_loading import import_string

from accounts.models import User
from rewards import services
from rewards.models import RewardAccount
from stores.models import Store


@dataclass(frozen=True)
class RewardsRush:
    """Signed-in members (session cookies by shopper slot) and the points each uses."""

    sessions: list
    points: Decimal
    every: int = 4

    def session_for(self, number: int) -> str | None:
        if number % self.every != 1:
            return None
        return self.sessions[(number // self.every) % len(self.sessions)]


def prepare_members(*, shoppers: int, store_id: int, points: Decimal = Decimal(100), every: int = 4) -> RewardsRush:
    count = max(1, shoppers // every + 1)
    store = Store.objects.get(pk=store_id)
    engine = import_string(settings.SESSION_ENGINE + ".SessionStore")
    sessions = []
    for index in range(count):
        user, created = User.objects.get_or_create(
            username=f"rush-member-{index}", defaults={"email": f"rush-member-{index}@bench.example"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        account = RewardAccount.objects.filter(user=user).first() or services.join(email=user.email, user=user)
        if account.balance < points:
            services.earn_in_store(
                account=account,
                store=store,
                till_receipt_number=f"BENCH-{index}-{secrets.token_hex(4)}",
                amount=(points - account.balance) * 100 / settings.REWARDS_EARN_RATE + 100,
                by=None,
            )
        session = engine()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    return RewardsRush(sessions=sessions, points=points, every=every)
