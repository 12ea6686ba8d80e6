"""bench/run and bench/soak.py drop, flush or reuse only databases they created (bench/own_databases.py).

Each test makes PostgreSQL databases of its own on the test server (a "shop" one with an order
row in it, bench-named ones) and, for Redis, a redis-server of its own, then points the tools at
them: a database that is not theirs is refused with the reason and keeps its rows.
"""

import uuid

import psycopg
import pytest
import redis
from psycopg import sql

from bench import own_databases
from bench import soak as soak_run
from bench.__main__ import parse_args as bench_args
from bench.__main__ import prepare_databases as bench_prepare
from orders.tests.test_outbox_faults import own_redis  # noqa: F401 (a fixture)
from orders.tests.test_worker import database_url_of_this_test_run

pytestmark = [pytest.mark.postgres]


def _url_of(name):
    return database_url_of_this_test_run().rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def make_database(require_postgres):
    """make_database(name, comment=None) -> URL of a new database holding table shop_order with one row."""
    made = []
    server = database_url_of_this_test_run().rsplit("/", 1)[0] + "/postgres"

    def make(name, *, comment=None):
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            if comment is not None:
                connection.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(comment))
                )
        made.append(name)
        with psycopg.connect(_url_of(name), autocommit=True) as connection:
            connection.execute("CREATE TABLE shop_order (reference text)")
            connection.execute("INSERT INTO shop_order VALUES ('NB-1001')")
        return _url_of(name)

    yield make
    with psycopg.connect(server, autocommit=True) as connection:
        for name in made:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _orders_in(url):
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT reference FROM shop_order")]


def _exists(url):
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server) as connection:
        name = own_databases.database_name(url)
        return bool(connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def _suffix():
    return uuid.uuid4().hex[:8]


def test_soak_never_reads_database_url_so_the_shops_database_is_not_its_default(monkeypatch):
    # given the README's production set-up: DATABASE_URL names the shop's own database
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/o2o")
    monkeypatch.delenv("SOAK_DATABASE_URL", raising=False)

    # when the soak is run without a database of its own
    args = soak_run.parse_args([])

    # then it takes its own o2o_soak, not the shop's
    assert own_databases.database_name(args.database_url) == "o2o_soak"


@pytest.mark.parametrize("reuse", [False, True])
def test_soak_refuses_the_shops_database_and_leaves_it_intact(make_database, reuse):
    # given the shop's database, with an order in it
    shop = make_database(f"o2o_shop_{_suffix()}")

    # when the soak is pointed at it (and at a name that only starts like the soak's)
    with pytest.raises(own_databases.NotOurDatabase) as refused:
        soak_run.main(["--database-url", shop, "--minutes", "0.01", *(["--reuse"] if reuse else [])])
    with pytest.raises(own_databases.NotOurDatabase):
        soak_run.main(["--database-url", _url_of("o2o_soaking"), "--minutes", "0.01"])

    # then it says why, and the shop's order is still there
    assert "only drops or uses databases of its own, named o2o_soak" in refused.value.message
    assert refused.value.code == f"refused: {refused.value.message}"
    assert _orders_in(shop) == ["NB-1001"]


@pytest.mark.parametrize("reuse", [False, True])
def test_bench_refuses_the_shops_database_and_leaves_it_intact(make_database, reuse):
    # given the shop's database, with an order in it
    shop = make_database(f"o2o_{_suffix()}")

    # when the benchmark is given it
    args = bench_args(["--database-url", shop, "--redis-url", "redis://127.0.0.1:1", *(["--reuse"] if reuse else [])])
    with pytest.raises(own_databases.NotOurDatabase) as refused:
        bench_prepare(args)

    # then it is refused before anything else is touched, and the order is still there
    assert "named o2o_bench or o2o_bench_<anything>" in refused.value.message
    assert _orders_in(shop) == ["NB-1001"]


def test_a_database_with_the_tools_name_that_the_tool_did_not_create_is_refused(make_database):
    # given a database called o2o_soak_… that someone else made (no mark, or another comment)
    unmarked = make_database(f"o2o_soak_{_suffix()}")
    other = make_database(f"o2o_soak_{_suffix()}", comment="the Oslo shop")

    # when the soak would re-create or reuse them
    for url in (unmarked, other):
        for prepare in (own_databases.recreate_own_database, own_databases.check_own_database):
            with pytest.raises(own_databases.NotOurDatabase) as refused:
                prepare(url, prefix="o2o_soak", tool="bench/soak.py")
            # then each is refused with how to drop it by hand, and keeps its rows
            assert "bench/soak.py did not create it" in refused.value.message
            assert f"dropdb -h 127.0.0.1 -U postgres {own_databases.database_name(url)}" in refused.value.message
        assert _orders_in(url) == ["NB-1001"]


def test_the_tools_own_database_is_dropped_created_again_and_reused(require_postgres):
    # given a bench database that does not exist yet
    name = f"o2o_bench_{_suffix()}"
    url = _url_of(name)
    try:
        # when the bench creates it, something is written in it, and the bench creates it again
        assert own_databases.recreate_own_database(url, prefix="o2o_bench", tool="bench/run") == name
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE left_over (n int)")
        own_databases.recreate_own_database(url, prefix="o2o_bench", tool="bench/run")

        # then the second run found its mark, dropped it and began afresh; --reuse takes it
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT to_regclass('left_over')").fetchone()[0] is None
        assert own_databases.check_own_database(url, prefix="o2o_bench", tool="bench/run") == name
        # the soak's mark is not the bench's: one tool never drops the other's database
        with pytest.raises(own_databases.NotOurDatabase):
            own_databases.check_own_database(url, prefix="o2o_bench", tool="bench/soak.py")
    finally:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    assert not _exists(url)


@pytest.mark.redis
def test_a_redis_database_holding_keys_without_the_bench_mark_is_not_flushed(own_redis):  # noqa: F811
    # given Redis database 1 is the shop's cache, 2 is empty, and 3 the bench's from a former run
    base = own_redis.url.rsplit("/", 1)[0]
    shop = redis.Redis.from_url(f"{base}/1")
    shop.set("shop:catalog:1", "cached page")
    own_databases.flush_own_redis(f"{base}/3", tool="bench/run")
    redis.Redis.from_url(f"{base}/3").set("bench:left-over", "1")

    # when the bench would flush each
    with pytest.raises(own_databases.NotOurDatabase) as refused:
        own_databases.flush_own_redis(f"{base}/1", tool="bench/run")
    own_databases.flush_own_redis(f"{base}/2", tool="bench/run")
    own_databases.flush_own_redis(f"{base}/3", tool="bench/run")

    # then the shop's is refused and untouched; the empty and the marked ones are the bench's
    assert "holds 1 keys and bench/run did not mark it" in refused.value.message
    assert shop.get("shop:catalog:1") == b"cached page"
    assert redis.Redis.from_url(f"{base}/3").get("bench:left-over") is None
    for number in (2, 3):
        assert redis.Redis.from_url(f"{base}/{number}").get(own_databases.REDIS_MARK_KEY) == b"created by bench/run"


@pytest.mark.redis
def test_bench_checks_every_database_before_it_drops_any(make_database, own_redis):  # noqa: F811
    # given the bench's own PostgreSQL database from a former run, and Redis databases of which
    # one (the broker's, 14) holds the shop's keys
    name = f"o2o_bench_{_suffix()}"
    url = make_database(name, comment="created by bench/run")
    base = own_redis.url.rsplit("/", 1)[0]
    redis.Redis.from_url(f"{base}/14").set("shop:queue", "tasks")

    # when the bench runs
    with pytest.raises(own_databases.NotOurDatabase) as refused:
        bench_prepare(bench_args(["--database-url", url, "--redis-url", base, "--redis-dbs", "13,14,15"]))

    # then it is refused for the Redis database, before its own PostgreSQL one was dropped
    assert f"Redis database {base}/14" in refused.value.message
    assert _orders_in(url) == ["NB-1001"]
    assert redis.Redis.from_url(f"{base}/14").get("shop:queue") == b"tasks"
