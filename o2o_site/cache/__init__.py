"""The shop's caching, in one place.

- `stamps`: version stamps (bumped by the services that change the data, after commit), the
  fragments cache, and `key()`, the one way a cache key is built: a value computed while a
  language is active carries the language and the currency unless it is marked neutral.
- `pages`: `@shared_page`, whole pages rendered once for every shopper who would see the same
  HTML: everything a page varies by is in its key (address, language, currency, store, login,
  cart), and every response gets the shopper's own CSRF token.
- the `{% fragment %}` template tag (o2o_site/templatetags/fragments.py): `{% cache %}` with the
  language and currency always in the key.

Checkout never reads any of this: it reserves against the locked stock rows (stores.services).
"""
