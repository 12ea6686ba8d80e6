"""Project-wide test set-up: factories as fixtures and the real-service guards.

Tests that need PostgreSQL, Redis or Chromium skip with the reason when the service is absent,
and fail instead when O2O_REQUIRE_SERVICES=1 (CI sets it), so CI can never go green by skipping.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("O2O_REQUIRE_SERVICES") == "1"


def _missing(reason):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (O2O_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def _port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def redis_broker_url():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        _missing("needs Redis: set CELERY_BROKER_URL=redis://…")
    parsed = urlparse(url)
    if not _port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        _missing(f"Redis at {url} is not reachable")
    return url


@pytest.fixture
def chromium_path():
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        _missing("needs Debian's chromium: apt-get install -y chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("needs Playwright for Python: pip install -r requirements-dev.txt")
    return path


@pytest.fixture
def lighthouse_script(chromium_path):
    """lighthouse/audit.mjs, which runs the Lighthouse pinned in lighthouse/package-lock.json
    (`npm ci --prefix lighthouse`, as `make test` does) on Debian's chromium."""
    folder = settings.BASE_DIR / "lighthouse"
    if shutil.which("node") is None:
        _missing("needs Node.js 18.16 or newer for Lighthouse: apt-get install -y nodejs npm")
    if not (folder / "node_modules" / "lighthouse").is_dir():
        _missing("needs Lighthouse: npm ci --prefix lighthouse")
    return folder / "audit.mjs"


@pytest.fixture(scope="session", autouse=True)
def _n_plus_one_detector_installed():
    """django-zeal patches the ORM's related-object descriptors once. It is not in INSTALLED_APPS,
    so production pays nothing for it; here every request and every test body is checked."""
    from zeal.constants import initialize_app_registry
    from zeal.patch import patch

    initialize_app_registry()
    patch()
    _each_request_checked_on_its_own()
    _factories_are_not_checked()


def _each_request_checked_on_its_own():
    # A request is one unit of work, as in zeal's middleware: two requests in one test that each
    # load the session once are not an N+1, and a request starts with no allowlist of the test's.
    from django.core.handlers.base import BaseHandler
    from zeal.listeners import NPlusOneContext, _nplusone_context

    get_response = BaseHandler.get_response

    def get_response_checked(self, request):
        token = _nplusone_context.set(NPlusOneContext(enabled=True))
        try:
            return get_response(self, request)
        finally:
            _nplusone_context.reset(token)

    BaseHandler.get_response = get_response_checked


def _factories_are_not_checked():
    """Test data built by factory_boy is set-up, not the shop's code: a batch of products with
    get_or_create'd categories looks like an N+1 to zeal but no shopper ever runs it."""
    import factory.base
    from zeal import zeal_ignore

    generate = factory.base.BaseFactory._generate.__func__

    def _generate_unchecked(cls, strategy, params):
        with zeal_ignore():
            return generate(cls, strategy, params)

    factory.base.BaseFactory._generate = classmethod(_generate_unchecked)


# Exceptions for the whole suite, each with its reason.
ZEAL_ALLOWLIST = [
    # Django's database session backend reads the shopper's one session row again by its key
    # when a login cycles the key; that is Django's own code and one row, not a list.
    {"model": "sessions.Session", "field": "get()"},
    # orders.services.transition_order locks the one order it moves (select_for_update by pk),
    # and an admin action over many orders moves each in its own transaction on purpose, so
    # one order that cannot move does not hold back the others.
    {"model": "orders.Order", "field": "get()"},
    # payment.services locks the one payment it changes (select_for_update by pk), and settling an
    # order's payments (payment.services.settle_order_payments) changes each in its own locked
    # step, so a gateway failing for one does not hold back the others.
    {"model": "payment.Payment", "field": "get()"},
    # orders.notifications.outbox.notify looks up the one row of (order, kind) it writes; a delivery
    # handed over at the door writes two kinds for its order (delivered, and the receipt), each once.
    {"model": "orders.Notification", "field": "get()"},
    # The admin page of a user loads that user, and authentication loads the logged-in one:
    # two different users by primary key, not a list read row by row.
    {"model": "accounts.User", "field": "get()"},
    # transfers.services locks the one transfer it moves (select_for_update by pk), and an admin
    # action over many transfers moves each in its own transaction (one refused holds back none),
    # telling each one's order (its fulfilment, by pk) of the move.
    {"model": "transfers.Transfer", "field": "get()"},
    {"model": "orders.Fulfilment", "field": "get()"},
]

# In a test body the same .get() twice is two shop operations the test runs one after the other
# (two managers added, two stock counts), not a loop in the shop's code; inside a request it is
# still an N+1. Lazy loading of a relation row by row fails everywhere.
TEST_BODY_ZEAL_ALLOWLIST = [{"model": "*", "field": "get()"}]


@pytest.fixture(autouse=True)
def _no_n_plus_one_queries(_n_plus_one_detector_installed, settings):
    """Every test fails on an N+1 (django-zeal raises NPlusOneError at the line that did it). Fix
    it with select_related/prefetch_related in the selector; settings.ZEAL_ALLOWLIST takes a real
    exception only with the reason written beside it."""
    from zeal import zeal_context, zeal_ignore

    settings.ZEAL_RAISE = True
    settings.ZEAL_ALLOWLIST = ZEAL_ALLOWLIST
    with zeal_context(), zeal_ignore(TEST_BODY_ZEAL_ALLOWLIST):
        yield


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings, tmp_path):
    # Unit tests run Celery tasks eagerly; the worker tests start a real worker instead.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Beat's job in production; the checkout page does it only without a broker (`make run`).
    # Off here, so a page's query count does not depend on whether the run has a broker.
    settings.PAYMENT_HOLDS_EXPIRED_BY_CHECKOUT = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "http://testserver"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from o2o_site.celery import app
    from orders.notifications.outbox import broker_outage

    app.conf.task_always_eager = True
    broker_outage.over()  # a broker "down" in an earlier test is not down in this one


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser(chromium_path):
    """Debian's chromium driven by Playwright; never a downloaded browser build."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls a test makes
    # between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def _english_until_a_test_says_otherwise():
    """Every test starts in the default language. A request in Icelandic leaves Icelandic active
    in the thread afterwards, and translated model fields (product.name → name_is) are written
    in the active language, so without this a factory's data would depend on the test before."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    # Cached catalog fragments and version stamps (o2o_site/cache/stamps.py) start empty in
    # every test, as the database does.
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()
