"""The Redis cache backend keeps one redis-py client (o2o_site/redis_cache.py) and still reads and
writes like Django's."""

import uuid

from o2o_site.redis_cache import RedisCache


def test_the_cache_reuses_one_redis_client_and_reads_what_it_wrote(redis_broker_url):
    # given the shop's Redis cache backend, under a prefix of this test's own
    cache = RedisCache(redis_broker_url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    try:
        # when a version stamp is written and read back
        cache.set("v:catalog", "stamp-1", 30)

        # then it reads as Django's backend would, and every call used the same client
        assert cache.get("v:catalog") == "stamp-1"
        assert cache.get_many(["v:catalog", "v:missing"]) == {"v:catalog": "stamp-1"}
        assert cache.add("v:catalog", "stamp-2", 30) is False
        assert cache._cache.get_client() is cache._cache.get_client(write=True) is cache._cache.get_client()
    finally:
        cache.delete("v:catalog")
