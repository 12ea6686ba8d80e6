"""Database errors that are nobody's fault: two transactions collided, or one waited too long.

PostgreSQL resolves a deadlock or a serialization conflict by aborting one of the transactions
(SQLSTATE 40P01, 40001); repeating the whole transaction then usually succeeds. A lock wait that
hits `lock_timeout` (55P03) means someone holds the rows for long: repeating it only makes the
shopper wait more, so it is reported at once. Either way nothing was written (the transaction
was rolled back), and o2o_site.middleware shows the shopper a "please try again" page (HTTP 503)
for whatever is left.
"""

import functools
import logging
import random
import time

from django.conf import settings
from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"  # statement_timeout

RETRYABLE = {DEADLOCK_DETECTED, SERIALIZATION_FAILURE}
BUSY = RETRYABLE | {LOCK_NOT_AVAILABLE, QUERY_CANCELED}


def sqlstate(error) -> str | None:
    """The SQLSTATE of a database error (psycopg's, under Django's wrapper), if there is one."""
    while error is not None:
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code:
            return code
        error = error.__cause__
    return None


def is_retryable(error) -> bool:
    return isinstance(error, OperationalError) and sqlstate(error) in RETRYABLE


def is_busy(error) -> bool:
    """A collision or a timeout a later try can get past (as opposed to a bug or an outage)."""
    if not isinstance(error, OperationalError):
        return False
    if sqlstate(error) in BUSY:
        return True
    # SQLite (the embedded defaults) has one writer at a time and says so in words.
    return "database is locked" in str(error)


def retry_on_conflict(function=None, *, attempts=3, base_delay=0.05):
    """Run a function that opens its own transaction again on a deadlock or serialization failure.

    At most `attempts` runs, with a short random pause that grows, so two colliding checkouts
    do not collide again in step. Only where it is safe: when the function's transaction is the
    outermost one (inside someone else's transaction the failed one cannot be repeated alone).
    """

    def decorate(run):
        @functools.wraps(run)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return run(*args, **kwargs)
                except OperationalError as error:
                    if attempt == attempts or not is_retryable(error) or connection.in_atomic_block:
                        raise
                    pause = base_delay * attempt * random.uniform(0.5, 1.5)
                    logger.warning(
                        "%s: %s (try %s of %s); again in %.2f s", run.__name__, error, attempt, attempts, pause
                    )
                    time.sleep(pause)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(function) if function is not None else decorate


def limit_lock_wait(milliseconds=None) -> None:
    """On PostgreSQL, end this transaction's lock waits after CHECKOUT_LOCK_TIMEOUT_MS (SET LOCAL)."""
    if connection.vendor != "postgresql":
        return
    milliseconds = settings.CHECKOUT_LOCK_TIMEOUT_MS if milliseconds is None else milliseconds
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(milliseconds)}ms"])
