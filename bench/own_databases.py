"""The benchmark and the soak run drop and empty only databases they made themselves.

`bench/run` re-creates PostgreSQL `o2o_bench` and flushes Redis databases 13-15; `bench/soak.py`
re-creates `o2o_soak`. Pointed at the shop's own database (a `DATABASE_URL` left over from the
README's production set-up, a mistyped `--database-url` or `--redis-dbs`) they would wipe it, so
every drop, flush or reuse goes through this module, which refuses unless both hold:

- the name is the tool's own: `o2o_bench` / `o2o_soak`, or that followed by `_` and anything
  (`o2o_bench_second`), so a second run can sit beside the first;
- an existing database carries the tool's mark, which it set when it created the database:
  PostgreSQL's `COMMENT ON DATABASE` (`created by bench/run`), or in Redis the key
  `o2o-bench:created-by` (an empty Redis database has nothing to lose and is taken).

A refusal raises `NotOurDatabase` (a `SystemExit`, so the tool stops with the message and exit
status 1) before anything is dropped, flushed or written. A database of the tool's name made by
an older version, which set no mark, is refused too: drop it by hand once (the message says how).
"""

from urllib.parse import urlparse

REDIS_MARK_KEY = "o2o-bench:created-by"


class NotOurDatabase(SystemExit):
    """The database is not one the tool created: nothing was dropped, flushed or written."""

    def __init__(self, message: str):
        super().__init__(f"refused: {message}")
        self.message = message


def database_name(url: str) -> str:
    """The database name in a `postgres://user@host:port/name?options` URL."""
    return urlparse(url).path.lstrip("/")


def _server_url(url: str) -> str:
    """The same server's `postgres` database (CREATE and DROP DATABASE run from there)."""
    return urlparse(url)._replace(path="/postgres").geturl()


def _mark(tool: str) -> str:
    return f"created by {tool}"


def check_name(url: str, *, prefix: str, tool: str) -> str:
    """The database name of `url` when it is the tool's own (`prefix`, or `prefix_…`).

    Raises NotOurDatabase for any other name (the shop's `o2o`, the tests', anyone's).
    """
    name = database_name(url)
    if name != prefix and not (name.startswith(prefix + "_") and len(name) > len(prefix) + 1):
        raise NotOurDatabase(
            f"{tool} only drops or uses databases of its own, named {prefix} or {prefix}_<anything>; "
            f"{name or '(no name)'!r} is not one. Give it its own with --database-url "
            f"postgres://…/{prefix}."
        )
    return name


def _comment(connection, name: str):
    """(exists, comment) for the database `name`."""
    row = connection.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return (row is not None, row[0] if row else None)


def _refuse_unmarked(url: str, name: str, comment: str | None, *, tool: str):
    host = urlparse(url).hostname or "127.0.0.1"
    raise NotOurDatabase(
        f"database {name!r} exists but {tool} did not create it (its comment is {comment!r}, not "
        f"{_mark(tool)!r}), so it is left as it is. If it is an old benchmark database, drop it by hand "
        f"once: dropdb -h {host} -U postgres {name}"
    )


def recreate_own_database(url: str, *, prefix: str, tool: str) -> str:
    """Drop and create again the PostgreSQL database `url` names, marked as the tool's; its name.

    `prefix` is the tool's own name (`o2o_bench`), `tool` how the mark names it (`bench/run`).
    Raises NotOurDatabase, dropping nothing, for another name or an existing database without
    the tool's mark.
    """
    import psycopg
    from psycopg import sql

    name = check_name(url, prefix=prefix, tool=tool)
    with psycopg.connect(_server_url(url), autocommit=True) as connection:
        exists, comment = _comment(connection, name)
        if exists and comment != _mark(tool):
            _refuse_unmarked(url, name, comment, tool=tool)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        mark = sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(_mark(tool)))
        connection.execute(mark)
    return name


def check_own_database(url: str, *, prefix: str, tool: str) -> str:
    """The name of the database `url` names, when it exists and the tool created it (`--reuse`).

    Raises NotOurDatabase for another name, a database that does not exist, or one without the mark.
    """
    import psycopg

    name = check_name(url, prefix=prefix, tool=tool)
    with psycopg.connect(_server_url(url), autocommit=True) as connection:
        exists, comment = _comment(connection, name)
    if not exists:
        raise NotOurDatabase(f"database {name!r} does not exist: run {tool} once without --reuse")
    if comment != _mark(tool):
        _refuse_unmarked(url, name, comment, tool=tool)
    return name


def check_own_redis(url: str, *, tool: str) -> None:
    """Raise NotOurDatabase when the Redis database `url` names (`redis://host:port/13`) holds
    keys but not the tool's mark (the shop's cache or broker, say); an empty one is the tool's to take."""
    import redis

    with redis.Redis.from_url(url) as client:
        keys = client.dbsize()
        if keys and client.get(REDIS_MARK_KEY) != _mark(tool).encode():
            raise NotOurDatabase(
                f"Redis database {url} holds {keys} keys and {tool} did not mark it as its own "
                f"(key {REDIS_MARK_KEY!r}), so it is left as it is. Choose others with --redis-dbs, or, "
                f"if it is an old benchmark database, empty it by hand once: redis-cli -u {url} flushdb"
            )


def flush_own_redis(url: str, *, tool: str) -> None:
    """Empty the Redis database `url` names and mark it as the tool's.

    Raises NotOurDatabase, flushing nothing, when check_own_redis refuses it.
    """
    import redis

    check_own_redis(url, tool=tool)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
        client.set(REDIS_MARK_KEY, _mark(tool))
