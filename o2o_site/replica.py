"""Catalog reads from a PostgreSQL streaming read replica (DATABASE_REPLICA_URL), never stale
where it matters.

A replica replays the primary's write-ahead log (WAL) a little behind it: milliseconds when all is
well, minutes when it is not (replay paused, a long query on it, a slow disk). So the replica only
ever answers what is safe to answer late, and even that only once it has caught up far enough:

- Only views marked `@reads_from_replica` (the catalog and the store locator, which only read)
  may read from it, and only the tables of the apps in DATABASE_REPLICA_APPS (the catalog and the
  stores: products, categories, stores, stock counts). Sessions, users, carts, orders and payments
  are always read from the primary, and so is everything any other view, task or command reads.
- Inside a transaction every read goes to the primary (a transaction that reads to decide what it
  writes must see the primary's rows); every write goes to the primary.
- Read-your-writes: a request that wrote anything gives the browser a cookie with the primary's
  WAL position (LSN) after its writes; that browser's catalog pages read from the replica only
  once the replica has replayed past it (for DATABASE_REPLICA_PIN_SECONDS; a shopper's own order
  is on an order page, which always reads the primary anyway).
- Shared caches: the version stamps (o2o_site.cache.stamps) carry the LSN of the write that bumped
  them, so a page or fragment about to be cached under a stamp is read from the replica only if
  the replica has replayed that write; otherwise from the primary. A lagging replica never puts
  old stock or prices into the cache under a new stamp.

A replica that is down or unreachable is not waited for: the primary answers, and the process
leaves the replica alone for REPLICA_RETRY_SECONDS.

Deciding costs one query on the replica per request that reads from it (`pg_last_wal_replay_lsn()`),
and one on the primary per request (or stamp bump) that wrote (`pg_current_wal_lsn()`). Without
DATABASE_REPLICA_URL the router sends everything to "default" and costs nothing.

Reserving stock never reads the replica: it locks the stock rows on the primary in a transaction
(stores.services.reserve_stock), so a replica however late can never oversell.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
# The browser's read-your-writes mark: the primary's WAL position after the request that wrote.
COOKIE = "o2o_primary_lsn"
# A replica that did not answer is left alone this long (per process).
REPLICA_RETRY_SECONDS = 30
_down_until = 0.0


@dataclass
class _RequestState:
    allowed: bool = False  # inside a @reads_from_replica view
    wrote: bool = False  # a write was routed during this request
    required_lsn: int = 0  # the replica must have replayed this far to be read
    replayed_lsn: int | None = None  # the replica's replay position, read once per request
    asked_for_lsn: int = -1  # the required_lsn it was last read for


_state: contextvars.ContextVar[_RequestState | None] = contextvars.ContextVar("o2o_replica_state", default=None)


def configured() -> bool:
    """Whether a replica is configured (DATABASE_REPLICA_URL, or a test adding the alias)."""
    return REPLICA in connections.settings


def parse_lsn(text: str | None) -> int:
    """A PostgreSQL LSN ("16/B374D848", the hex of its upper and lower 32 bits) as an int; 0 for
    None or anything unreadable (a cookie a browser changed)."""
    if not text:
        return 0
    upper, _, lower = text.partition("/")
    try:
        return (int(upper, 16) << 32) | int(lower, 16)
    except ValueError:
        return 0


def primary_lsn() -> int:
    """The primary's current WAL position (one query on "default")."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return parse_lsn(cursor.fetchone()[0])


def require_lsn(lsn: int) -> None:
    """Reads from the replica in this request need it to have replayed up to `lsn` (a stamp's)."""
    state = _state.get()
    if state is not None and lsn > state.required_lsn:
        state.required_lsn = lsn


def _replica_caught_up(state: _RequestState) -> bool:
    global _down_until
    behind = state.replayed_lsn is None or state.replayed_lsn < state.required_lsn
    if behind and state.asked_for_lsn < state.required_lsn:
        # Asked once per request, and again only when the request comes to need a later position
        # (a stamp read later); a replica behind it is not asked again for every query.
        state.asked_for_lsn = state.required_lsn
        if time.monotonic() < _down_until:
            return False
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
                state.replayed_lsn = parse_lsn(cursor.fetchone()[0])
        except DatabaseError:
            # The replica is down or unreachable: the primary answers, and this process leaves the
            # replica alone for a while instead of waiting for it on every page.
            logger.warning("read replica unreachable; reading the primary for %s s", REPLICA_RETRY_SECONDS)
            _down_until = time.monotonic() + REPLICA_RETRY_SECONDS
            connections[REPLICA].close()
            return False
    return state.replayed_lsn is not None and state.replayed_lsn >= state.required_lsn


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: reads of the replica's apps in a @reads_from_replica view go to
    the replica when it has caught up (the module's docstring); everything else to "default"."""

    def db_for_read(self, model, **hints):
        state = _state.get()
        if (
            state is None
            or not state.allowed
            or model._meta.app_label not in settings.DATABASE_REPLICA_APPS
            or not configured()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not _replica_caught_up(state)
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica replays the primary's migrations


def reads_from_replica(view):
    """Mark a view that only reads (a catalog or locator page): its reads of the catalog's and the
    stores' tables may go to the replica. Never for a view that writes or whose answer must be
    current (carts, checkout, orders, payments, staff pages)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        state = _state.get()
        if state is None:
            return view(request, *args, **kwargs)
        state.allowed = request.method in ("GET", "HEAD")
        try:
            return view(request, *args, **kwargs)
        finally:
            state.allowed = False

    return wrapped


class ReplicaMiddleware:
    """Per request: the browser's read-your-writes mark in, a new mark out if the request wrote.
    Placed before SessionMiddleware, so a session saved at the end of the request counts as a write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        state = _RequestState(required_lsn=parse_lsn(request.COOKIES.get(COOKIE)))
        token = _state.set(state)
        try:
            response = self.get_response(request)
            if state.wrote:
                lsn = primary_lsn()
                response.set_cookie(
                    COOKIE,
                    f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}",
                    max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
            return response
        finally:
            _state.reset(token)
