"""Settings that must not be forgotten in production: system-check errors, so the shop refuses to
start rather than run with them wrong.

They run wherever Django runs its checks (runserver, migrate: the release step, `manage.py
check`) and in o2o_site/wsgi.py, since gunicorn runs none. Registered by o2o_site.apps.SiteConfig.
"""

from django.conf import settings
from django.core.checks import Error, Tags, run_checks
from django.core.exceptions import ImproperlyConfigured

# Checks the web server runs as it starts (o2o_site/wsgi.py): settings only, no database.
START_UP = "o2o_start_up"

# Keys anyone can read: the embedded default (settings.DEVELOPMENT_SECRET_KEY) and the
# placeholder in .env.example. Django marks the keys it generates for development the same way.
PUBLISHED_KEY_PREFIX = "django-insecure-"
ENV_EXAMPLE_KEY = "change-me-to-a-long-random-value"

NEW_KEY_HINT = (
    "Set SECRET_KEY to a long random value, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'. "
    "When you replace a key that signed links already e-mailed, put the old one in SECRET_KEY_FALLBACKS."
)
# The backends that keep a copy per process: every process would have its own version stamps.
PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


def _published(key) -> bool:
    key = str(key or "")
    return (
        not key
        or key.startswith(PUBLISHED_KEY_PREFIX)
        or key in {getattr(settings, "DEVELOPMENT_SECRET_KEY", None), ENV_EXAMPLE_KEY}
    )


def check_secret_keys(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off, no published key signs or verifies anything: order and check-in links are
    signed with SECRET_KEY (and still accepted under SECRET_KEY_FALLBACKS), so a published key
    would let anyone forge them."""
    if settings.DEBUG:
        return []
    errors = []
    if _published(settings.SECRET_KEY):
        errors.append(
            Error(
                "SECRET_KEY is a published key (the development default or .env.example's placeholder) and "
                "DEBUG is off: anyone could forge order and check-in links.",
                hint=NEW_KEY_HINT,
                id="o2o_site.E001",
            )
        )
    if any(_published(key) for key in settings.SECRET_KEY_FALLBACKS):
        errors.append(
            Error(
                "SECRET_KEY_FALLBACKS holds a published key (the development default or .env.example's "
                "placeholder) and DEBUG is off: links anyone signs with it would open.",
                hint="Remove it from SECRET_KEY_FALLBACKS; only keys that really signed links belong there.",
                id="o2o_site.E002",
            )
        )
    return errors


def check_shared_cache(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off the shop runs as several processes (gunicorn's workers, a Celery worker): a
    cache in each process's memory keeps a version stamp per process, so a stock change made in
    one is not seen by the others until their pages expire (a minute of stale stock)."""
    if settings.DEBUG or settings.O2O_SINGLE_PROCESS:
        return []
    local = sorted(alias for alias, cache in settings.CACHES.items() if cache["BACKEND"] in PROCESS_LOCAL_CACHES)
    if not local:
        return []
    return [
        Error(
            f"No shared cache: {', '.join(local)} in each process's memory, and DEBUG is off. Each process of "
            "the shop would keep its own version stamps and show stock and prices up to a minute stale.",
            hint="Set CACHE_URL to the Redis every process uses, e.g. redis://127.0.0.1:6379/1 "
            "(or O2O_SINGLE_PROCESS=true if the shop really runs as one process, tasks included).",
            id="o2o_site.E003",
        )
    ]


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured with every start-up check that fails (o2o_site/wsgi.py)."""
    errors = [message for message in run_checks(tags=[START_UP]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("The shop refuses to start:\n" + "\n".join(str(error) for error in errors))


# The checks and their tags, registered by o2o_site.apps.SiteConfig.
CHECKS = [
    (check_secret_keys, (Tags.security, START_UP)),
    (check_shared_cache, (Tags.caches, START_UP)),
]
