"""Version stamps for cached pages and fragments, and the keys they are kept under.

Cached HTML (the category menu, a page of product cards, a product's availability across
stores, whole pages) and cached counts carry the versions of what they show in their keys. A
change never deletes keys; it stamps a new version, so every fragment that showed the old data is
simply never read again (and expires). The versions are bumped by the services that change the
data, after their transaction commits:

- the catalog (products, prices, categories, images): catalog.services.catalog_changed()
- a product's stock anywhere, and a store's stock: stores.services (every stock change)
- the stores and their opening hours: stores.services.stores_changed()
- the postcode table: stores.postcodes.import_postcodes; delivery zones and windows:
  delivery.services.delivery_changed()

The stamps live in the default cache, the fragments (whose keys carry the stamps, so a key's
content never changes) in the "template_fragments" cache: both in Redis in production
(CACHE_URL), shared by every process, and in each process's memory on the embedded defaults,
which is fine for one process only (o2o_site.checks refuses several processes without it).
"""

import hashlib
import threading
import time
import uuid
from functools import partial

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

from o2o_site import replica

# Fragments expire on their own too: what no stamp follows is at most this late.
FRAGMENT_SECONDS = 60
# What shows the catalog only (a product as its page reads it, a product card, the category menu)
# and is kept under the catalog's version stamp is never stale, so it lives longer: a shop of
# 10 000 products in three languages has 30 000 cards, and a minute would read most again.
CATALOG_SECONDS = 60 * 60
VERSION_SECONDS = 60 * 60 * 24 * 7

CATALOG = "v:catalog"
# The stores and their opening hours (stores.selectors.store_directory).
STORES = "v:stores"
# The postcode table (stores.postcodes.import_postcodes) and the stores' delivery zones and
# windows (delivery.services.delivery_changed): the delivery directory (delivery.selectors).
POSTCODES = "v:postcodes"
DELIVERY = "v:delivery"


def fragments():
    """Where fragments and shared pages are kept (settings.CACHES["template_fragments"], also
    what {% fragment %} uses): Redis in production, this process's memory on the embedded defaults."""
    return caches["template_fragments"]


def variant() -> str:
    """What changes the text of anything rendered, besides its data: the active language
    (gettext, translated names, a search in the shopper's language), the shop's currency, and
    the placeholders cached HTML holds (marker(): they change with the SECRET_KEY)."""
    return f"{get_language()}:{settings.SHOP_CURRENCY}:{_markers_epoch()}"


def marker(name: str) -> str:
    """A placeholder for cached HTML, filled in per request (a shopper's nav, CSRF token, stock
    line): `name` followed by 16 hex digits of an HMAC of it under the SECRET_KEY. Letters and
    digits only, so HTML escaping leaves it as it is; and no shopper can type one into an
    address or form that a page echoes, so nothing they type is ever replaced by a fill (a search
    for a constant placeholder once put the shopper's CSRF token into the page's links)."""
    return name + salted_hmac("o2o_site.cache.stamps.marker", name).hexdigest()[:16]


_epochs: dict[str, str] = {}


def _markers_epoch() -> str:
    # Cached HTML made under another SECRET_KEY holds other placeholders: never read it again.
    epoch = _epochs.get(settings.SECRET_KEY)
    if epoch is None:
        epoch = _epochs[settings.SECRET_KEY] = marker("epoch")[-8:]
    return epoch


def key(name: str, *parts: object, neutral: bool = False) -> str:
    """The cache key of a value computed from `parts` (version stamps, ids, digests of filters).

    The language and currency are part of every key (variant()), because a value computed while
    a language is active may depend on it without saying so: a search's count does (it looks at
    the names in the shopper's language), so an English search once decided what Icelandic
    shoppers found. Only a value that is the same in every language may say `neutral=True`:
    model instances (they carry every language's text) and numbers read without a search.
    """
    text = ":".join(str(part) for part in (name, *parts, *(() if neutral else (variant(),))))
    if len(text) > 200:  # memcached's limit is 250; a long search or address is kept as a digest
        text = f"{name}:{digest(text)}"
    return text


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def product_stock_key(product_id: int) -> str:
    return f"v:stock:product:{product_id}"


def store_stock_key(store_id: int) -> str:
    return f"v:stock:store:{store_id}"


# The stamps read in the request this thread serves (RequestStampsMiddleware): a page's parts,
# its nav (the cart's count) and the store directory each ask for the catalog's or the stores'
# stamp, which one round trip for the page then answers.
_request = threading.local()


class RequestStampsMiddleware:
    """Keeps the stamps read during a request for the rest of it (versions()), so its later
    reads cost no round trip. A stamp bumped in the request (after its commit) is kept as the new
    one; one bumped by another process meanwhile is seen by the next request, as any stamp read
    a moment before is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _request.stamps = {}
        try:
            return self.get_response(request)
        finally:
            _request.stamps = None


def versions(*keys: str) -> dict[str, str]:
    """The current stamp of each key, from one cache round trip (none for those read earlier in
    the same request); missing stamps are created."""
    known = getattr(_request, "stamps", None)
    if known is not None and all(key in known for key in keys):
        return {key: known[key] for key in keys}
    found = cache.get_many(keys)
    missing = {key: _new_stamp() for key in keys if key not in found}
    if missing:
        for stamp_key, stamp in missing.items():
            # add(): if another process created the stamp meanwhile, theirs wins.
            if not cache.add(stamp_key, stamp, VERSION_SECONDS):
                missing[stamp_key] = cache.get(stamp_key, stamp)
        found.update(missing)
    if replica.configured():
        # What is cached under these stamps may be read from the replica only once it has
        # replayed the writes that stamped them (o2o_site/replica.py).
        replica.require_lsn(max(_lsn_of(stamp) for stamp in found.values()))
    if known is not None:
        known.update(found)
    return found


def bump(*keys: str) -> None:
    """New stamps for `keys` once the current transaction commits (at once outside one)."""
    if keys:
        transaction.on_commit(partial(_stamp, keys=tuple(keys)))


def _stamp(*, keys):
    stamp = _new_stamp()
    cache.set_many({stamp_key: stamp for stamp_key in keys}, VERSION_SECONDS)
    known = getattr(_request, "stamps", None)
    if known is not None:
        known.update(dict.fromkeys(keys, stamp))


def _new_stamp() -> str:
    """Unique per bump; with a read replica it ends in "@" and the primary's WAL position (hex)
    after the write it stands for."""
    stamp = f"{time.time_ns():x}{uuid.uuid4().hex[:6]}"
    if replica.configured():
        stamp += f"@{replica.primary_lsn():x}"
    return stamp


def _lsn_of(stamp: str) -> int:
    _, at, lsn = str(stamp).rpartition("@")
    try:
        return int(lsn, 16) if at else 0
    except ValueError:
        return 0


def minute_bucket() -> int:
    """Changes every minute: keys with it keep "open now" right to the minute."""
    return int(time.time() // 60)
