"""Whole shop pages rendered once and served to every shopper who would see the same HTML.

A catalog page shows the catalog and stock as of their version stamps (catalog/fragment_cache.py),
and otherwise depends only on the address (path and query), the language, the shopper's store,
how many items their cart holds and whether they are logged in. The one personal thing in it is
the CSRF token of its forms. So the page is rendered with a placeholder where the token goes,
kept in the fragments cache under a key of all of the above, and every response gets the
shopper's own token (and CSRF cookie) in place of the placeholder: no shopper ever receives
another's token.

Not shared: a page while the shopper has a message waiting (it is rendered afresh, which shows
the message once), anything but a GET, and any answer but 200. Checkout never reads these
pages: it reserves against the locked stock rows (stores.services).
"""

import hashlib

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from checkout.cart import Cart

from . import fragment_cache

# Stands where each shopper's CSRF token goes in a shared page; letters and digits only, so it
# survives HTML escaping unchanged.
CSRF_PLACEHOLDER = "csrfPlaceholder7Vq2Lr9Xw4Kd8Nt1Gz6Hb3Jm5Pc0Sy"


def shared_page(request, *, store, stamps, build, seconds=fragment_cache.FRAGMENT_SECONDS):
    """The response for a catalog page: from the cache when the same page was rendered before.

    `store` is the shopper's store (or None), `stamps` the version stamps (and any other values)
    of what the page shows; `build(extra_context) -> HttpResponse` renders the page.
    """
    if request.method != "GET" or _message_waiting(request):
        return build({})
    key = _key(request, store, stamps)
    body = fragment_cache.fragments().get(key)
    if body is None:
        response = build({"csrf_token": CSRF_PLACEHOLDER})
        if response.status_code != 200 or response.streaming:
            return response
        body = response.content
        fragment_cache.fragments().set(key, body, seconds)
    else:
        response = HttpResponse()
    response.content = body.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    return response


def _key(request, store, stamps):
    parts = (
        *stamps,
        request.get_full_path(),
        get_language(),
        store.pk if store is not None else "-",
        len(Cart(request.session)),
        request.user.is_authenticated,
    )
    return "page:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _message_waiting(request):
    # len() reads the messages without marking them shown; only rendering them does that.
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0
