"""Sessions read from the shared cache and written through to PostgreSQL, as Django's cached_db
does, in one statement per write instead of three.

Django's database store wraps each write in a transaction of its own (BEGIN, the INSERT or UPDATE,
COMMIT) and asks the database whether a new random key is taken before inserting it. One statement
is atomic on its own, and the session table's primary key already refuses a key that is taken
(`create()` then draws another), so outside a transaction the write is that statement alone: one
round trip instead of three (or five for a new session) on every request that changes the cart, the
chosen store or the checkout tokens. Inside a transaction (a test's, a view's) the write keeps its
savepoint, so a refused key cannot spoil the transaction around it.
"""

from contextlib import nullcontext

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils.crypto import get_random_string


class SessionStore(cached_db.SessionStore):
    def _get_new_session_key(self) -> str:
        # 32 characters of 36: a key taken already is refused by the INSERT's primary key, and
        # create() draws again; no query to ask first.
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        using = router.db_for_write(self.model)
        connection = connections[using]
        table = connection.ops.quote_name(self.model._meta.db_table)
        session_data = self.encode(data)
        expire_date = connection.ops.adapt_datetimefield_value(self.get_expiry_date())
        try:
            savepoint = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
            with savepoint, connection.cursor() as cursor:
                if must_create:
                    cursor.execute(
                        f"INSERT INTO {table} (session_key, session_data, expire_date) VALUES (%s, %s, %s)",
                        [self.session_key, session_data, expire_date],
                    )
                else:
                    cursor.execute(
                        f"UPDATE {table} SET session_data = %s, expire_date = %s WHERE session_key = %s",
                        [session_data, expire_date, self.session_key],
                    )
                    if cursor.rowcount != 1:
                        # Deleted meanwhile (a logout in another tab, the clearsessions sweep).
                        raise UpdateError
        except IntegrityError as error:
            if must_create:
                raise CreateError from error
            raise
        except DatabaseError as error:
            if not must_create:
                raise UpdateError from error
            raise
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:
            cached_db.logger.exception("Error saving to cache (%s)", self._cache)
