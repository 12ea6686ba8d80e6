"""Who is asking (an API key), how often (a limit per key), and whether they already have the
answer (ETag): the three checks every API operation passes through (api/endpoints.py).

- A key goes in the `X-API-Key` header. Without a usable one every operation answers 401.
- Each key may make its channel's `requests_per_minute` in a calendar minute (UTC). The count is
  one atomic INCR in the default cache (Redis in production, so every process shares it); the
  request over the limit is answered 429 with `Retry-After`: the seconds until the minute ends.
- GET answers carry an ETag; a request whose If-None-Match names it gets 304 and no body.
"""

import hashlib
import math
import threading
import time

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from ninja.security import APIKeyHeader
from ninja.throttling import BaseThrottle

from stores.models import Store

from .models import ApiKey
from .services import key_for

RATE_WINDOW_SECONDS = 60
# Answers depend on the key (its channel's stores) and the language: no shared cache may keep them,
# and a client revalidates with If-None-Match before using its copy.
CACHE_CONTROL = "private, no-cache"
VARY = "X-API-Key, Accept-Language"


class ApiKeyAuth(APIKeyHeader):
    """The `X-API-Key` header: the request's key (request.auth), with `store_ids`, the channel's
    stores shoppers may see (frozenset of ids). Two queries: the key with its channel, the stores."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        found = key_for(key)
        if found is None:
            return None
        found.store_ids = frozenset(
            Store.objects.for_shoppers().filter(api_channels=found.channel_id).values_list("pk", flat=True)
        )
        return found


class KeyRateThrottle(BaseThrottle):
    """At most the channel's `requests_per_minute` per key in each minute (fixed windows)."""

    def __init__(self):
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        key = request.auth
        now = time.time()
        window = int(now // RATE_WINDOW_SECONDS)
        counter = f"api:rate:{key.pk}:{window}"
        # add() then incr(): both atomic in Redis, so concurrent requests never lose a count.
        cache.add(counter, 0, RATE_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between the two calls
            cache.add(counter, 1, RATE_WINDOW_SECONDS * 2)
            count = 1
        self._local.wait = (window + 1) * RATE_WINDOW_SECONDS - now
        return count <= key.channel.requests_per_minute

    def wait(self) -> float:
        """Seconds until the current minute ends (at least 1: Retry-After is rounded up)."""
        return max(math.ceil(getattr(self._local, "wait", RATE_WINDOW_SECONDS)), 1)


def etag_of(*parts: object) -> str:
    """A strong ETag (quoted) for an answer made from `parts` (version stamps, ids, the query)."""
    return '"' + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest() + '"'


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """A 304 when the request's If-None-Match names `etag` (or is "*"), else None."""
    wanted = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag in tags or "*" in tags:
        response = HttpResponse(status=304)
        # A 304 carries what the 200 would have (RFC 9110, 15.4.5).
        response["ETag"] = etag
        response["Cache-Control"] = CACHE_CONTROL
        response["Vary"] = VARY
        return response
    return None
