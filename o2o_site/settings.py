"""Settings for the O2O storefront.

Everything comes from the environment (django-environ). With no environment at all the
shop runs on embedded defaults: SQLite, Celery tasks run in-process, e-mail to the console.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL and
HTTPS=true (see .env.example).
"""

import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A production-like .env (a copy of .env.example) is read unless ENV_FILE says another file, or
# nothing when empty: `make run` sets ENV_FILE= so the demo always runs on the embedded defaults.
ENV_FILE = env("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Django's debug pages (the URL patterns on a 404, the traceback on a 500) with DEBUG on. Off,
# `make run` shows the shop's own error pages as production does (o2o_site/error_pages.py).
DEBUG_PAGES = env.bool("DEBUG_PAGES", default=False)
# Order and check-in links are signed with SECRET_KEY. This default is published in the
# repository: with DEBUG off the shop refuses to start on it (o2o_site/checks.py).
DEVELOPMENT_SECRET_KEY = "django-insecure-embedded-default-only-for-local-development"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
# Rotating the key: the previous key(s), comma-separated, so links already e-mailed (order
# pages, curbside check-in) and sessions keep working; drop them once those links have expired.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "modeltranslation",  # before the admin: product and category texts per language
    "o2o_site.apps.ShopAdminConfig",  # django.contrib.admin with a scoped "view on site"
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",  # login brute-force limits (shopper and admin logins)
    "csp",  # Content-Security-Policy header
    "ninja",  # django-ninja: the API docs' templates and their static files (no CDN)
    "o2o_site.apps.SiteConfig",  # the lowest layer: money (|money), caching ({% fragment %}), shared helpers
    "accounts",
    "catalog",
    "stores",
    "orders",
    "pickup",
    "delivery",
    "shipping",
    "instore",  # in-store mode: store links, shelf-label scans, assisted selling
    "payments",  # django-payments: the Dummy provider's form template, its own translations
    "payment",
    "transfers",  # ship-to-store: units sent from one location to a store for an order waiting there
    "coupons",  # discounts by code, online at checkout and at the store's till
    "checkout",
    "returns",
    "campaigns",  # e-mail consent with its provenance, and campaigns
    "rewards",
    "storefront",
    "backoffice",
    "demo",
    "ops",  # health endpoints, request ids in logs and tasks, Prometheus metrics (README, "Health and metrics")
    "api",  # the JSON API for kiosks, apps and partners (/api/v1/)
    "analytics",  # the O2O dashboard in the admin, from daily roll-up rows (README, "The O2O dashboard")
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) is in every log record of the request and its tasks.
    "ops.request_id.RequestIdMiddleware",
    # With a read replica: read-your-writes for catalog pages (o2o_site/replica.py); before the
    # session middleware, so a session saved at the end of a request counts as its write.
    "o2o_site.replica.ReplicaMiddleware",
    # The cache's version stamps read once a request (o2o_site/cache/stamps.py).
    "o2o_site.cache.stamps.RequestStampsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # request.cart_item_count(): the header's cart count, read only where a page shows it.
    "checkout.cart.CartCountMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The JSON API refuses the NUL character, which PostgreSQL's text cannot hold (api/middleware.py).
    "api.middleware.RefuseNulMiddleware",
    # With DEBUG on and DEBUG_PAGES off: the shop's 404/400/500 pages, not Django's debug pages.
    "o2o_site.error_pages.ShopErrorPagesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends an in-store context whose time is up before any page shows or caches it (no query).
    "instore.middleware.InStoreContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A deadlock or lock timeout that survived the services' retries: "please try again" (503).
    "o2o_site.middleware.BusyDatabaseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Health and metrics for operators (ops/; README, "Health and metrics").
# Prometheus metrics at /metrics/ and in the worker: off unless OPS_METRICS=true (then
# django-prometheus's middleware times every request; off, it is not in the stack at all).
OPS_METRICS = env.bool("OPS_METRICS", default=False)
if OPS_METRICS:
    MIDDLEWARE = [
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *MIDDLEWARE,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ]
# Who may read /health/ready/ and /metrics/: straight from these networks (CIDR; never through a
# proxy), or with `Authorization: Bearer $OPS_TOKEN`. /health/live/ is open to all.
OPS_ALLOWED_NETWORKS = env.list("OPS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
OPS_TOKEN = env("OPS_TOKEN", default="")
# Readiness fails past these: e-mails pending or sending, the oldest one's age (seconds), the
# age of beat's last heartbeat (seconds); and waits this long for a worker's or Redis's answer.
OPS_OUTBOX_MAX_BACKLOG = env.int("OPS_OUTBOX_MAX_BACKLOG", default=500)
OPS_OUTBOX_MAX_AGE = env.int("OPS_OUTBOX_MAX_AGE", default=15 * 60)
OPS_BEAT_HEARTBEAT_INTERVAL = env.int("OPS_BEAT_HEARTBEAT_INTERVAL", default=60)
OPS_BEAT_MAX_AGE = env.int("OPS_BEAT_MAX_AGE", default=3 * OPS_BEAT_HEARTBEAT_INTERVAL)
OPS_WORKER_PING_TIMEOUT = env.float("OPS_WORKER_PING_TIMEOUT", default=1.0)
OPS_REDIS_TIMEOUT = env.float("OPS_REDIS_TIMEOUT", default=1.0)
# The worker serves its task metrics here (with OPS_METRICS on; 0: not served).
OPS_WORKER_METRICS_PORT = env.int("OPS_WORKER_METRICS_PORT", default=0)
OPS_WORKER_METRICS_ADDR = env("OPS_WORKER_METRICS_ADDR", default="127.0.0.1")

ROOT_URLCONF = "o2o_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "checkout.context_processors.cart_summary",
                "stores.context_processors.my_store",
                "instore.context_processors.in_store",
            ],
        },
    },
]

WSGI_APPLICATION = "o2o_site.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# How long a checkout waits for another transaction's row locks (PostgreSQL lock_timeout) before
# the shopper is asked to try again.
CHECKOUT_LOCK_TIMEOUT_MS = env.int("CHECKOUT_LOCK_TIMEOUT_MS", default=3000)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite allows one writer; waiting for the lock beats failing a checkout. IMMEDIATE takes the
    # write lock when a transaction begins, so a second writer waits for the first to commit (and
    # then sees what it wrote: a twin checkout finds its order) instead of failing with "database
    # is locked" when its read transaction tries to become a write (Django 5.1+).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["timeout"] = 20
    options.setdefault("transaction_mode", "IMMEDIATE")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The search's misspellings (catalog/search.py): a word counts as like a name's word from this
    # trigram word similarity on ("sweter" is 0.5 like "sweater"; pg_trgm's default is 0.6). Set
    # when the connection opens, so it costs no query.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    threshold = env.float("SEARCH_WORD_SIMILARITY", default=0.45)
    options["options"] = f"{options.get('options', '')} -c pg_trgm.word_similarity_threshold={threshold}".strip()

# A PostgreSQL streaming read replica of DATABASE_URL (README, "A read replica"): catalog and
# store-locator pages read the catalog's and the stores' tables from it once it has replayed what
# they need; everything else reads and writes the primary (o2o_site/replica.py).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        # A replica that is down costs a page at most this long once (o2o_site/replica.py).
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), "connect_timeout": 2},
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        # Tests make no database of their own on the replica: it replays the primary's.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["o2o_site.replica.ReplicaRouter"]
# The apps whose tables @reads_from_replica views may read from the replica.
DATABASE_REPLICA_APPS = env.list("DATABASE_REPLICA_APPS", default=["catalog", "stores"])
# A browser that wrote reads catalog pages from the replica only once it has replayed that write,
# for this many seconds (then the replica is assumed caught up, as it is within milliseconds).
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=300)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:orders"
LOGOUT_REDIRECT_URL = "catalog:product_list"

# AxesStandaloneBackend first: it refuses a locked-out username+IP before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login brute force (django-axes): 5 wrong passwords for one username from one IP lock that
# pair out for AXES_COOLOFF_MINUTES; failures are rows in the database (visible in the admin).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Shops (or soak runs) sharing one Redis database keep their version stamps apart with this.
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="")
# Catalog fragments ({% fragment %}) and shared pages (o2o_site/cache/): in Redis beside their
# version stamps when CACHE_URL is Redis, so every process and server shares one copy and Redis
# bounds their memory; in each process's memory on the embedded defaults, which is right for one
# process only (o2o_site/checks.py: with DEBUG off, several processes need CACHE_URL). Their keys
# carry the version stamps, so a key's content never changes.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same backend, keeping its redis-py client (o2o_site/redis_cache.py explains why).
    CACHES["default"]["BACKEND"] = "o2o_site.redis_cache.RedisCache"
    # Sessions (the cart, my store, the checkout tokens) read from the shared cache and written
    # through to the database, which stays their record (an evicted or flushed key is read from
    # it again). Reading them from PostgreSQL was a query and 1-1.5 ms of every request, 4-5 %
    # of the checkout rush's CPU. Only with a cache every process shares: with one in each
    # process's memory, a session changed by another process would be read stale. Django's
    # cached_db, each write one statement rather than a transaction of three (o2o_site/sessions.py).
    SESSION_ENGINE = "o2o_site.sessions"
    CACHES["template_fragments"] = {
        **CACHES["default"],
        "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"] + "fragments",
        "TIMEOUT": 300,
    }
else:
    CACHES["template_fragments"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "catalog-fragments",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
# The shop runs as one process (one web worker, Celery tasks in-process): memory is then a
# shared cache. Without it, DEBUG off and no CACHE_URL is a system-check error.
O2O_SINGLE_PROCESS = env.bool("O2O_SINGLE_PROCESS", default=False)

# Shipping from a warehouse (the shipping app): the days a parcel takes to reach the shopper, as
# the product page says it ("ships to you in 2-3 days"); the carrier's promise, not ours.
SHIPPING_DAYS = tuple(env.list("SHIPPING_DAYS", cast=int, default=[2, 3]))

# In-store mode (instore.context): a browser that opened a store's link or a shelf label is in
# that store for this many hours, then back to the shopper's own store.
IN_STORE_CONTEXT_HOURS = env.int("IN_STORE_CONTEXT_HOURS", default=4)

# Internationalisation: English is the default; Icelandic and Norwegian Bokmål are the
# languages of the shop's first stores.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("is", _("Icelandic")),
    ("nb", _("Norwegian Bokmål")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Product and category names and descriptions are stored per language (django-modeltranslation:
# name_en, name_is, name_nb); an empty translation shows the English text.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "is", "nb")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Dates and times as Icelandic and Norwegian write them (o2o_site/formats/).
FORMAT_MODULE_PATH = ["o2o_site.formats"]
# The language a shopper picks in the switcher is remembered for a year (not just the browser session).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# The shop's currency; prices are stored as Decimal in this currency.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="ISK")
SHOP_NAME = env("SHOP_NAME", default="Norðurbúð")

# VAT (o2o_site/vat.py; README, "Receipts and VAT"). Prices are VAT-inclusive. A product's VAT
# class (catalog.models.VatClass) and the country of the store that sells it give the rate, in per
# cent; a country's rates may be replaced as "class=rate;class=rate", e.g. VAT_RATES_NO="standard=25;reduced=15".
# Iceland: virðisaukaskattur, lög nr. 50/1988 um virðisaukaskatt (Skatturinn, skatturinn.is):
#   24 % general rate (almennt þrep), 11 % reduced rate (neðra þrep) on food, books, hotels, …
# Norway: merverdiavgift, lov om merverdiavgift (merverdiavgiftsloven, LOV-2009-06-19-58, § 5-1 and
#   § 5-2; Skatteetaten, skatteetaten.no): 25 % general rate, 15 % on food and drink (næringsmidler).
# Have them checked by an accountant before changing them; orders keep the rate they were placed at.
VAT_RATES = {
    "IS": env.dict("VAT_RATES_IS", cast={"value": Decimal}, default={"standard": Decimal(24), "reduced": Decimal(11)}),
    "NO": env.dict("VAT_RATES_NO", cast={"value": Decimal}, default={"standard": Decimal(25), "reduced": Decimal(15)}),
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root whatever the page links (/favicon.ico), served by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "public"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# bench/run's ceiling: a bare view at /bench/bare/ through the same middleware. Never in production.
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", default=False)
# Media is served by Django only on the embedded defaults; production puts it behind
# the web server or object storage.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

# E-mail: console on the embedded defaults; EMAIL_URL (smtp://user:pass@host:587) in production.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# EMAIL_BACKEND, when set, wins over EMAIL_URL's (the worker tests select a test backend this way).
EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F821 (set by EMAIL_URL above)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Norðurbúð <shop@example.com>")
# Text messages (o2o_site/sms.py): the dotted path of a backend class, as EMAIL_BACKEND names one.
# Console (stdout) on the embedded defaults; the file backend writes each message to a file in
# SMS_FILE_PATH (the demo, tests). A production gateway is a class with send_messages(messages).
SMS_BACKEND = env("SMS_BACKEND", default="o2o_site.sms.ConsoleBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms"))
SMS_FROM = env("SMS_FROM", default="Nordurbud")
# A phone number typed without a country code is read as one of this country (ISO 3166 code).
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="IS")
# Absolute links in e-mails (the order page) are built from this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Online payment (django-payments; payment/ and the README, "Payments"). PAYMENT_PROVIDERS names
# the providers the shop offers: "dummy" (a form where you choose the outcome: never in
# production), "stripe" and "vipps", each configured by its own variables below. With DEBUG on
# (`make run`) the Dummy provider is there with no keys at all; with DEBUG off nothing is offered
# until PAYMENT_PROVIDERS says so.
# Receipts (payment/receipts.py; README, "Receipts and VAT"): a receipt is issued when money is
# captured, numbered from the shop's one gap-free sequence, and names the seller of the country of
# the store that sold: its name, address and registration, as the law of that country asks:
# Iceland (reglugerð nr. 50/1993 um bókhaldsgögn, reikninga og sölureikninga): name, kennitala and
#   VSK-númer (the VAT number); Norway (bokføringsforskriften § 5-1-1; Skatteetaten, "Krav til
#   salgsdokumentet"): name, address and organisasjonsnummer followed by "MVA" when registered for
#   VAT, and "Foretaksregisteret" for an AS.
RECEIPT_SELLERS = {
    "IS": {
        "name": env("SELLER_IS_NAME", default=f"{SHOP_NAME} ehf."),
        "address": env("SELLER_IS_ADDRESS", default=""),
        "kennitala": env("SELLER_IS_KENNITALA", default=""),
        "vat_number": env("SELLER_IS_VAT_NUMBER", default=""),
    },
    "NO": {
        "name": env("SELLER_NO_NAME", default=f"{SHOP_NAME} AS"),
        "address": env("SELLER_NO_ADDRESS", default=""),
        "organisasjonsnummer": env("SELLER_NO_ORGANISASJONSNUMMER", default=""),
        "vat_registered": env.bool("SELLER_NO_VAT_REGISTERED", default=True),
        "foretaksregisteret": env.bool("SELLER_NO_FORETAKSREGISTERET", default=True),
    },
}
PAYMENT_MODEL = "payment.Payment"
# "stripe, vipps" and "Stripe,Vipps" name the same providers as "stripe,vipps".
PAYMENT_PROVIDERS = [
    name.strip().lower() for name in env.list("PAYMENT_PROVIDERS", default=["dummy"] if DEBUG else []) if name.strip()
]
# A provider listed without a variable it needs: (provider, variable) pairs, reported by the
# system check payment.E003, which stops the shop at start-up with the variable's name.
PAYMENT_PROVIDER_VARIABLES_MISSING = []


def _provider_variable(provider, name):
    value = env.str(name, default="")
    if not value:
        PAYMENT_PROVIDER_VARIABLES_MISSING.append((provider, name))
    return value


# Providers send the shopper back to, and call, URLs on this host.
PAYMENT_HOST = env("PAYMENT_HOST", default=urlparse(SITE_URL).netloc)
PAYMENT_USES_SSL = env.bool("PAYMENT_USES_SSL", default=SITE_URL.startswith("https://"))
PAYMENT_VARIANTS = {}
if "dummy" in PAYMENT_PROVIDERS:
    PAYMENT_VARIANTS["dummy"] = ("payments.dummy.DummyProvider", {"capture": False})
if "stripe" in PAYMENT_PROVIDERS:
    # Stripe Checkout charges at once. The webhook endpoint is /payments/process/stripe/.
    PAYMENT_VARIANTS["stripe"] = (
        "payments.stripe.StripeProviderV3",
        {
            "api_key": _provider_variable("stripe", "STRIPE_SECRET_KEY"),
            "endpoint_secret": _provider_variable("stripe", "STRIPE_WEBHOOK_SECRET"),
            "secure_endpoint": True,
        },
    )
if "vipps" in PAYMENT_PROVIDERS:
    # The sales unit's API keys; VIPPS_API_URL=https://apitest.vipps.no for the test environment.
    # The webhook endpoint is /payments/process/vipps/; its secret comes from registering it.
    PAYMENT_VARIANTS["vipps"] = (
        "payment.vipps.VippsProvider",
        {
            "client_id": _provider_variable("vipps", "VIPPS_CLIENT_ID"),
            "client_secret": _provider_variable("vipps", "VIPPS_CLIENT_SECRET"),
            "subscription_key": _provider_variable("vipps", "VIPPS_SUBSCRIPTION_KEY"),
            "merchant_serial_number": _provider_variable("vipps", "VIPPS_MERCHANT_SERIAL_NUMBER"),
            "webhook_secret": env("VIPPS_WEBHOOK_SECRET", default=""),
            "api_url": env("VIPPS_API_URL", default="https://api.vipps.no"),
            "timeout": env.float("VIPPS_TIMEOUT", default=10),
        },
    )

# How shoppers may pay: "both" (online or at pickup), "online" or "at_pickup"; each store may
# choose otherwise (Store.payment_options). Online needs a provider above; with none, every
# order is paid at pickup whatever this says.
SHOP_PAYMENT_OPTIONS = env("SHOP_PAYMENT_OPTIONS", default="both")
# Paying online: the stock and the pickup time are held this long for the payment; an order not
# paid by then is cancelled (orders.scheduled.expire_payment_holds) and the shopper may not retry.
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=15)
# Transfers between locations (the transfers app): days from an order until goods sent from another
# location of the same country can be collected at the store, where no TransferRoute row says otherwise.
TRANSFER_DEFAULT_LEAD_DAYS = env.int("TRANSFER_DEFAULT_LEAD_DAYS", default=2)
# How long an authorisation can be captured, per provider (days from the authorisation). The
# checkout offers no pickup time after it, and the admin warns a day before it ends.
# - Cards (Dummy, Stripe): Stripe's online card authorisations are captured within 7 days
#   (docs.stripe.com, "Place a hold on a payment method"); card schemes allow as little.
# - Vipps MobilePay: "payments made by credit card can have a reservation period as short as
#   7 days" (developer.vippsmobilepay.com, knowledge base "Capture", capture deadlines); a
#   Vipps-account reservation lasts longer, but the shop cannot tell which card paid: 7 days.
PAYMENT_AUTHORISATION_DAYS = {
    "dummy": env.int("PAYMENT_AUTHORISATION_DAYS_DUMMY", default=7),
    "stripe": env.int("PAYMENT_AUTHORISATION_DAYS_STRIPE", default=7),
    "vipps": env.int("PAYMENT_AUTHORISATION_DAYS_VIPPS", default=7),
}
# Cancelled orders' payments are settled (voided, refunded) by a task after the cancellation;
# beat runs a sweep for any whose task was lost, and expires payment holds, this often (seconds).
PAYMENT_SWEEP_INTERVAL = env.int("PAYMENT_SWEEP_INTERVAL", default=60)
# A settlement a provider refused is retried this many times, waiting from this many seconds,
# doubling (the sweep above takes over after that).
PAYMENT_SETTLE_MAX_RETRIES = env.int("PAYMENT_SETTLE_MAX_RETRIES", default=8)
PAYMENT_SETTLE_RETRY_BACKOFF = env.float("PAYMENT_SETTLE_RETRY_BACKOFF", default=30)

# Celery: with no broker configured, tasks run in-process so a newcomer needs no services.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must never hang on a broker that is down or unreachable (kombu retries forever
# by default): give up after a short connect/socket timeout; orders.notifications keeps the
# notification in the database and the relay queues it once the broker is back.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    # A hung broker costs a publish up to three of these (orders.notifications.outbox), within the 2 s
    # a request may take; Redis answers a healthy publish in well under a millisecond.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=0.3),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=0.3),
    # Redis hands a task that was never acknowledged (acks_late: its worker died) to a worker
    # again after this many seconds. Longer than any retry countdown (NOTIFICATION_RETRY_BACKOFF_MAX
    # + 25 %), or a waiting retry would be delivered twice; the relay takes over a dead worker's
    # claim sooner anyway (NOTIFICATION_CLAIM_TIMEOUT).
    "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
}
# With no broker there is no beat either (`make run`): the checkout page then expires ended
# payment holds itself (and the order page its own order's), so held units go back on sale.
PAYMENT_HOLDS_EXPIRED_BY_CHECKOUT = env.bool(
    "PAYMENT_HOLDS_EXPIRED_BY_CHECKOUT", default=CELERY_BROKER_URL.startswith("memory://")
)
# Two queues, each with workers of its own (Procfile; README, "Workers and queues"), so a long
# beat job (a sweep over every order) never holds up a shopper's e-mail, and a worker lost on
# either is replaced by the others on its queue:
# - notifications (the default): what follows an action — e-mails, settling and refunding
#   payments, campaign chunks;
# - scheduled: beat's jobs (the modules in CELERY_IMPORTS, and ops' heartbeat).
# A shop (or a test, or the soak) that names only CELERY_TASK_DEFAULT_QUEUE runs everything on that
# one queue; CELERY_SCHEDULED_QUEUE names the second.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="notifications")
CELERY_SCHEDULED_QUEUE = env(
    "CELERY_SCHEDULED_QUEUE",
    default=CELERY_TASK_DEFAULT_QUEUE if env("CELERY_TASK_DEFAULT_QUEUE", default="") else "scheduled",
)

# The beat jobs' modules, which the worker imports at start (the tasks modules it finds itself).
CELERY_IMPORTS = (
    "orders.scheduled",
    "pickup.scheduled",
    "payment.scheduled",
    "returns.scheduled",
    "campaigns.scheduled",
    "rewards.scheduled",
    "analytics.scheduled",
)

# Beat's jobs go to the scheduled queue; everything else to the default one. A worker started
# without --queues consumes both (`make worker`).
CELERY_TASK_ROUTES = {
    **{f"{module}.*": {"queue": CELERY_SCHEDULED_QUEUE} for module in CELERY_IMPORTS},
    "ops.tasks.beat_heartbeat": {"queue": CELERY_SCHEDULED_QUEUE},
}
CELERY_TASK_QUEUES = {
    name: {"exchange": name, "routing_key": name}
    for name in dict.fromkeys([CELERY_TASK_DEFAULT_QUEUE, CELERY_SCHEDULED_QUEUE])
}

# E-mails to shoppers, one builder per notification kind (orders.models.NotificationKind): the
# dotted path of a callable taking the order and returning an EmailMessage, as EMAIL_BACKEND names
# a class. An e-mail showing how the goods reach the shopper (code, booked time) is built by the
# fulfilment app; orders builds only what it knows of. Imported once by
# orders.notifications.messages; the system check orders.E001-E003 stops the shop at start-up when
# a kind has no builder or a path does not import.
O2O_NOTIFICATION_EMAILS = {
    "order_received": "checkout.emails.order_received_email",
    "ready_for_pickup": "pickup.emails.ready_for_pickup_email",
    "partly_ready": "pickup.emails.partly_ready_email",
    "shipped": "shipping.emails.shipped_email",
    "pickup_reminder": "pickup.emails.pickup_reminder_email",
    "order_cancelled": "orders.emails.order_cancelled_email",
    "receipt": "payment.emails.receipt_email",
    "out_for_delivery": "delivery.emails.out_for_delivery_email",
    "delivered": "delivery.emails.delivered_email",
    "return_requested": "returns.emails.return_requested_email",
    "return_receipt": "returns.emails.return_receipt_email",
    "refund": "payment.emails.refund_email",
}

# What the order's e-mails show of its coupon and points, as its page does: the dotted path of a
# callable taking the order and returning {"coupon_code", "coupon_amount", "points"} or None.
# Read by orders.emails.render_email (coupons and rewards are layers above orders).
O2O_ORDER_EMAIL_DISCOUNTS = "checkout.selectors.order_discounts"
# What a refund did to the shopper's reward points, for the refund's e-mail: the dotted path of a
# callable taking the order and the refund's id and returning {"taken_back", "spent",
# "given_back"} or None. Read by payment.emails.refund_email (rewards is a layer above payment).
O2O_REFUND_EMAIL_POINTS = "rewards.selectors.points_of_refund"

# Parts of the shopper's order page (checkout's) that apps above checkout add: the dotted path of a
# callable taking the request and the order and returning HTML (a SafeString), shown in this order
# after the receipts. Imported once by checkout.views; the system check checkout.E001 stops the
# shop at start-up when a path does not import.
O2O_ORDER_PAGE_PANELS = ["transfers.panels.order_transfer_panel", "returns.panels.order_returns_panel"]
# Parts of the member page (rewards') that other apps add, such as the member's coupons: the dotted
# path of a callable taking the request and the rewards.RewardAccount and returning HTML (a
# SafeString), shown in this order after the member's QR code.
O2O_MEMBER_PAGE_PANELS: list[str] = ["coupons.panels.member_coupons_panel"]
# What records a shopper's "send me offers" ticked at checkout, in the order's transaction: the
# dotted path of a callable taking order=, user=, language= ("" records nothing).
O2O_CHECKOUT_CONSENT = "campaigns.services.subscribe_at_checkout"
# Reconciliations `manage.py check_integrity` runs after its own (orders.integrity): the dotted path
# of a callable taking the report and adding to its problems.
O2O_INTEGRITY_CHECKS = [
    "returns.integrity.check_returns",
    "delivery.integrity.check_deliveries",
    "transfers.integrity.check_transfers",
    "rewards.integrity.check_rewards",
]
# Units of open fulfilments not yet at their stock location (a transfer bringing them): the dotted
# path of a callable taking fulfilment ids and returning {fulfilment id: {product id: units}}.
# orders.selectors.units_on_the_way reads them: a cancelled order releases none of them there,
# and a pickup is not got ready while any are on the way.
O2O_UNITS_ON_THE_WAY = ["transfers.selectors.units_on_the_way"]
# Stock reserved other than by open fulfilments at their location, for `check_integrity`: the
# dotted path of a callable returning {(store id, product id): units} (signed) added to what open
# fulfilments hold there (transfers: + units reserved at a source, - units still on their way).
O2O_STOCK_RESERVED_OTHERWISE = ["transfers.selectors.stock_reserved_for_transfers"]
# Units of an order line given back other than by a refund on the payment (the dotted path of a
# callable taking the order and `refund_for` and returning {order line id: units}): payment's
# refunds (the admin's refund screen included) never refund them again. Checked at start-up
# (payment.E010).
O2O_UNITS_GIVEN_BACK_OTHERWISE = ["returns.policy.units_given_back_by_returns"]

# Notifications (orders.notifications): the outbox relay, retries with backoff, lost workers.
NOTIFICATION_RELAY_INTERVAL = env.float("NOTIFICATION_RELAY_INTERVAL", default=15)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BACKOFF = env.float("NOTIFICATION_RETRY_BACKOFF", default=30)  # seconds, doubling
NOTIFICATION_RETRY_BACKOFF_MAX = env.float("NOTIFICATION_RETRY_BACKOFF_MAX", default=30 * 60)
# A "sending" claim older than this belongs to a dead worker (the hard time limit ended the task).
NOTIFICATION_CLAIM_TIMEOUT = env.float("NOTIFICATION_CLAIM_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 30)
CELERY_BEAT_SCHEDULE = {
    "relay-notifications": {"task": "orders.scheduled.relay_notifications", "schedule": NOTIFICATION_RELAY_INTERVAL},
}
# Reminders for ready orders not collected, and cancellation after the store's days (pickup/reminders.py;
# each run is idempotent, so the interval only decides how soon after the due time they happen).
PICKUP_SCHEDULE_INTERVAL = env.int("PICKUP_SCHEDULE_INTERVAL", default=300)
CELERY_BEAT_SCHEDULE["send-pickup-reminders"] = {
    "task": "pickup.scheduled.send_pickup_reminders",
    "schedule": PICKUP_SCHEDULE_INTERVAL,
}
CELERY_BEAT_SCHEDULE["expire-uncollected-orders"] = {
    "task": "pickup.scheduled.expire_uncollected_orders",
    "schedule": PICKUP_SCHEDULE_INTERVAL,
}
CELERY_BEAT_SCHEDULE["expire-payment-holds"] = {
    "task": "orders.scheduled.expire_payment_holds",
    "schedule": PAYMENT_SWEEP_INTERVAL,
}
CELERY_BEAT_SCHEDULE["settle-cancelled-payments"] = {
    "task": "payment.scheduled.settle_cancelled_payments",
    "schedule": PAYMENT_SWEEP_INTERVAL,
}
CELERY_BEAT_SCHEDULE["retry-pending-return-refunds"] = {
    "task": "returns.scheduled.retry_pending_refunds",
    "schedule": PAYMENT_SWEEP_INTERVAL,
}

# E-mail consent and campaigns (campaigns/; README, "E-mail consent and campaigns"). Double opt-in:
# a subscription waits for the confirmation link (M3AAWG's confirmed opt-in); off, it is single.
EMAIL_CONSENT_DOUBLE_OPT_IN = env.bool("EMAIL_CONSENT_DOUBLE_OPT_IN", default=True)
# The pacer claims recipients every CAMPAIGN_TICK_SECONDS, as many as the campaign's rate allows,
# in chunks of CAMPAIGN_CHUNK_SIZE (one task each). A chunk claimed longer ago than
# CAMPAIGN_CLAIM_TIMEOUT lost its worker and is taken over; a refused message is tried
# CAMPAIGN_MAX_ATTEMPTS times. Beat restarts lost pacers every CAMPAIGN_RESTART_INTERVAL seconds.
CAMPAIGN_TICK_SECONDS = env.float("CAMPAIGN_TICK_SECONDS", default=1.0)
CAMPAIGN_CHUNK_SIZE = env.int("CAMPAIGN_CHUNK_SIZE", default=50)
CAMPAIGN_CLAIM_TIMEOUT = env.float("CAMPAIGN_CLAIM_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 30)
CAMPAIGN_MAX_ATTEMPTS = env.int("CAMPAIGN_MAX_ATTEMPTS", default=3)
CAMPAIGN_RESTART_INTERVAL = env.float("CAMPAIGN_RESTART_INTERVAL", default=15)
CELERY_BEAT_SCHEDULE["restart-lost-campaigns"] = {
    "task": "campaigns.scheduled.restart_lost_campaigns",
    "schedule": CAMPAIGN_RESTART_INTERVAL,
}
# Beat's heartbeat for readiness (ops.health.BeatHeartbeat).
CELERY_BEAT_SCHEDULE["ops-beat-heartbeat"] = {
    "task": "ops.tasks.beat_heartbeat",
    "schedule": OPS_BEAT_HEARTBEAT_INTERVAL,
}
# The dashboard's roll-up rows of yesterday and today (analytics.scheduled; README, "The O2O
# dashboard"): each run rewrites those days whole, so the interval is how stale today may be.
ANALYTICS_ROLLUP_INTERVAL = env.int("ANALYTICS_ROLLUP_INTERVAL", default=900)
CELERY_BEAT_SCHEDULE["roll-up-daily-figures"] = {
    "task": "analytics.scheduled.roll_up_recent_days",
    "schedule": ANALYTICS_ROLLUP_INTERVAL,
}
CELERY_TIMEZONE = "UTC"
# The worker logs through LOGGING below (request ids, JSON), not a root handler of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Returns in any store (returns/): how long after hand-over a shopper may bring things back (an
# order paid online always gets at least the 14-day right of withdrawal from pickup, whatever this
# says), how long store credit stays valid (a Norwegian tilgodelapp: 3 years unless it says
# otherwise), and how a refund the payment provider failed is retried.
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
STORE_CREDIT_VALID_YEARS = env.int("STORE_CREDIT_VALID_YEARS", default=3)
RETURN_REFUND_RETRY_BACKOFF = env.float("RETURN_REFUND_RETRY_BACKOFF", default=60)  # seconds, doubling
RETURN_REFUND_MAX_RETRIES = env.int("RETURN_REFUND_MAX_RETRIES", default=8)

# The rewards programme (rewards/, README "Rewards"): points are money in SHOP_CURRENCY; a member
# earns this per cent of what she paid, online when the goods are handed over, delivered or
# shipped (never the fees' lines), in store per till receipt. Each credit expires this many days
# after it was credited; the member is e-mailed this many days before. Beat's daily job (at
# REWARDS_DAILY_HOUR UTC) expires, warns, and earns for any completed order that missed it.
REWARDS_EARN_RATE = Decimal(env("REWARDS_EARN_RATE", default="5"))
REWARDS_POINTS_VALID_DAYS = env.int("REWARDS_POINTS_VALID_DAYS", default=730)
# A guest joining by phone gets a code by text message: valid this many minutes, this many wrong
# tries per code, and at most this many codes per number an hour.
REWARDS_PHONE_CODE_MINUTES = env.int("REWARDS_PHONE_CODE_MINUTES", default=10)
REWARDS_PHONE_CODE_ATTEMPTS = env.int("REWARDS_PHONE_CODE_ATTEMPTS", default=5)
REWARDS_PHONE_CODES_PER_HOUR = env.int("REWARDS_PHONE_CODES_PER_HOUR", default=3)
REWARDS_EXPIRY_NOTICE_DAYS = env.int("REWARDS_EXPIRY_NOTICE_DAYS", default=30)
REWARDS_NO_EARN_SKUS = env.list("REWARDS_NO_EARN_SKUS", default=["DELIVERY", "SHIPPING"])
REWARDS_DAILY_HOUR = env.int("REWARDS_DAILY_HOUR", default=3)
CELERY_BEAT_SCHEDULE["rewards-daily"] = {
    "task": "rewards.scheduled.rewards_daily",
    "schedule": crontab(minute=17, hour=REWARDS_DAILY_HOUR),
}

# Production hardening, switched on together by HTTPS=true.
HTTPS = env.bool("HTTPS", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The store page's map (Leaflet, shipped in static/vendor/): tiles from this URL template, with
# this attribution (HTML). Empty: no map, the page shows the address and a directions link.
MAP_TILES_URL = env("MAP_TILES_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_ATTRIBUTION = env(
    "MAP_ATTRIBUTION",
    default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
_map_tiles = urlparse(MAP_TILES_URL)
# The tile server's origin, for the Content-Security-Policy ({s}.tile.example.org: any subdomain).
MAP_TILES_ORIGIN = f"{_map_tiles.scheme}://{_map_tiles.netloc.replace('{s}', '*')}" if _map_tiles.netloc else None

# Content-Security-Policy (django-csp): only our own scripts, styles and fonts, no inline code;
# images also as data: URIs (the order page's QR code) and map tiles. Pages may not be framed anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", *([MAP_TILES_ORIGIN] if MAP_TILES_ORIGIN else [])],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Logs: one line per record on stderr, with the request id (ops.request_id) of the request or
# task it belongs to; LOG_FORMAT=json writes each as one JSON object (python-json-logger) for a
# log collector, with a request's method, path, status and duration_ms as fields.
LOG_FORMAT = env("LOG_FORMAT", default="text").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.request_id.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
