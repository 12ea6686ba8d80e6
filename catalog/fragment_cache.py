"""Version stamps for cached catalog fragments, and where they are bumped.

Cached HTML (the category menu, a page of product cards, a product's availability across
stores) and cached counts carry the versions of what they show in their keys. A change never
deletes keys; it stamps a new version, so every fragment that showed the old data is simply
never read again (and expires). The versions are bumped by the services that change the data,
after their transaction commits:

- the catalog (products, prices, categories, images): catalog.services.catalog_changed()
- a product's stock anywhere, and a store's stock: stores.services (every stock change)
- the stores and their opening hours: stores.services.stores_changed()

Whole pages are cached the same way (catalog/page_cache.py). Checkout never reads any of this:
it reserves against locked stock rows (stores.services). The stamps live in the default cache,
the fragments (whose keys carry the stamps, so a key's content never changes) in the
"template_fragments" cache: both in Redis in production (CACHE_URL), shared by every process,
and in each process's memory on the embedded defaults.
"""

import time
import uuid
from functools import partial

from django.core.cache import cache, caches
from django.db import transaction

# Fragments expire on their own too: a store's "open now" and a store renamed in the admin
# (which bumps nothing) are at most this late.
FRAGMENT_SECONDS = 60
VERSION_SECONDS = 60 * 60 * 24 * 7

CATALOG = "v:catalog"
# The stores and their opening hours (stores.selectors.store_directory).
STORES = "v:stores"


def fragments():
    """Where fragments and shared pages are kept (settings.CACHES["template_fragments"], also
    what {% cache %} uses): Redis in production, this process's memory on the embedded defaults."""
    return caches["template_fragments"]


def product_stock_key(product_id) -> str:
    return f"v:stock:product:{product_id}"


def store_stock_key(store_id) -> str:
    return f"v:stock:store:{store_id}"


def versions(*keys) -> dict[str, str]:
    """The current stamp of each key, from one cache round trip; missing stamps are created."""
    found = cache.get_many(keys)
    missing = {key: _new_stamp() for key in keys if key not in found}
    if missing:
        for key, stamp in missing.items():
            # add(): if another process created the stamp meanwhile, theirs wins.
            if not cache.add(key, stamp, VERSION_SECONDS):
                missing[key] = cache.get(key, stamp)
        found.update(missing)
    return found


def bump(*keys) -> None:
    """New stamps for `keys` once the current transaction commits (at once outside one)."""
    if keys:
        transaction.on_commit(partial(_stamp, keys=tuple(keys)))


def _stamp(*, keys):
    stamp = _new_stamp()
    cache.set_many({key: stamp for key in keys}, VERSION_SECONDS)


def _new_stamp() -> str:
    return f"{time.time_ns():x}{uuid.uuid4().hex[:6]}"


def minute_bucket() -> int:
    """Changes every minute: keys with it keep "open now" right to the minute."""
    return int(time.time() // 60)
