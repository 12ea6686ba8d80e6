"""The shop's caching, in one place.

- `stamps`: version stamps (bumped by the services that change the data, after commit), the
  fragments cache, and `key()`, the one way a cache key is built: a value computed while a
  language is active carries the language and the currency unless it is marked neutral.
- `pages`: `@shared_page`, whole pages rendered once for every shopper who would see the same
  HTML: everything its body varies by is in its key (address, language, currency, and the store
  unless the page fills its store's parts in), and every response gets the shopper's own nav,
  store parts and CSRF token put in where the body holds placeholders (`stamps.marker`).
- the `{% fragment %}` template tag (o2o_site/templatetags/fragments.py): `{% cache %}` with the
  language and currency always in the key.

Checkout never reads any of this: it reserves against the locked stock rows (stores.services).
"""
