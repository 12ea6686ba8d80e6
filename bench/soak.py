"""Soak run: minutes of mixed browsing and checkouts against gunicorn with a real Celery worker,
while store staff mark orders ready, hand them over, cancel some and recount stock; it ends with
`manage.py check_integrity` (stock, reservations, orders and notifications must reconcile
exactly) and a check that no e-mail went out twice.

    .venv/bin/python bench/soak.py --minutes 10 --broker-url redis://127.0.0.1:6379/0

It re-creates a database of its own, o2o_soak (--database-url or SOAK_DATABASE_URL name another,
which must be called o2o_soak_<anything>), migrates it and seeds the demo shop unless --reuse is
given. It never reads DATABASE_URL, which after the README's production set-up names the shop's
own database, and refuses any database it did not create (bench/own_databases.py).
The test suite runs a short version (o2o_site/tests/test_soak.py).
"""

import argparse
import datetime
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SETTLE_TIMEOUT = 90  # seconds for the last e-mails to go out after the traffic stops
MESSAGE_ID = re.compile(rb"^Message-ID: (<notification-[^>]+>)", re.MULTILINE)


# --- shoppers ----------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The fields a browser would submit for each POST form on a page (defaults, checked boxes)."""

    def __init__(self):
        super().__init__()
        self.forms, self._current, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._current = {"action": attrs.get("action", ""), "fields": {}, "choices": {}}
            self.forms.append(self._current)
        if self._current is None or (tag != "option" and "name" not in attrs):
            return
        fields, choices = self._current["fields"], self._current["choices"]
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                choices.setdefault(attrs["name"], []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    fields[attrs["name"]] = attrs.get("value", "on")
            elif kind != "submit":
                fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            choices.setdefault(self._select, []).append(attrs.get("value", ""))
            if "selected" in attrs or self._select not in fields:
                fields[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            fields[attrs["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._current = None


def post_forms(page):
    parser = _Forms()
    parser.feed(page)
    return parser.forms


class Browser:
    """One shopper: cookies kept, one keep-alive connection, every response counted."""

    def __init__(self, host, port, stats):
        import http.client

        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookies, self.stats = {}, stats

    def request(self, kind, method, path, form=None):
        from http.cookies import SimpleCookie
        from urllib.parse import urlencode

        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        self.stats.record(kind, response.status, time.perf_counter() - began)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, text


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    slowest: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    staff: Counter = field(default_factory=Counter)

    def record(self, kind, status, seconds):
        with self.lock:
            self.requests[kind] += 1
            self.statuses[status] += 1
            self.slowest[kind] = max(self.slowest.get(kind, 0.0), seconds)

    def error(self, message):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(message)

    def count(self, what, number=1):
        with self.lock:
            self.staff[what] += number


def shopper(number, *, host, port, products, categories, stores, stop, stats):
    """Browse (list, category, search, product page), choose a store, fill a cart, often check out."""
    rng = random.Random(number)
    browser = Browser(host, port, stats)
    while not stop.is_set():
        try:
            category = rng.choice(categories)
            browser.request("list", "GET", rng.choice(["/", f"/?category={category}", "/?page=2"]))
            browser.request("search", "GET", f"/?q={rng.choice(['lopi', 'wool', 'mug', 'sweater', 'x'])}")
            product = rng.choice(products)
            _status, _headers, page = browser.request("product", "GET", f"/products/{product['slug']}/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if csrf is None:
                stats.error(f"shopper {number}: no form on /products/{product['slug']}/")
                continue
            csrf = csrf.group(1)
            store = rng.choice(stores)
            browser.request("choose store", "POST", "/stores/choose/", {"csrfmiddlewaretoken": csrf, "store_id": store})
            for chosen in rng.sample(products, rng.randint(1, 2)):
                browser.request(
                    "cart add",
                    "POST",
                    "/cart/add/",
                    {"csrfmiddlewaretoken": csrf, "product_id": chosen["id"], "quantity": rng.randint(1, 2)},
                )
            if rng.random() < 0.7:
                _checkout(browser, number, rng, stats)
            else:
                browser.request("cart", "GET", "/cart/")
        except Exception as error:  # one broken request is reported, the shopper carries on
            stats.error(f"shopper {number}: {error!r}")
            browser = Browser(host, port, stats)
        time.sleep(rng.uniform(0.05, 0.3))


def _checkout(browser, number, rng, stats):
    status, headers, page = browser.request("checkout page", "GET", "/checkout/")
    if status != 200:
        return  # e.g. an empty cart after products sold out
    [form] = [form for form in post_forms(page) if "checkout_token" in form["fields"]] or [None]
    if form is None:
        stats.error(f"shopper {number}: no checkout form")
        return
    fields = dict(form["fields"])
    for name, values in form["choices"].items():
        if name not in fields and values:
            fields[name] = values[0]
    fields.update(name=f"Soak shopper {number}", email=f"soak-{number}@example.com", phone="+354 555 1234")
    status, headers, page = browser.request("checkout", "POST", "/checkout/", fields)
    if status == 302 and "/orders/" in headers.get("Location", ""):
        stats.count("orders placed")
    elif status == 200:
        stats.count("checkouts refused (sold out, or a form error)")
    if status >= 500:
        stats.error(f"shopper {number}: checkout answered {status}")


# --- store staff (in this process, through the services) ---------------------------------------


def staff(*, stop, stats, manager_id, rng_seed=0):
    """Mark placed orders ready, hand ready ones over with their code, cancel a few, recount stock."""
    from django.db import connection

    from accounts.models import User
    from orders.models import CancelReason, Order, OrderStatus
    from orders.services import IllegalTransition, cancel_order
    from pickup.selectors import pickup_of
    from pickup.services import collect_order, mark_ready_for_pickup
    from stores.models import StockLevel
    from stores.services import set_on_hand

    rng = random.Random(rng_seed)
    manager = User.objects.get(pk=manager_id)
    try:
        while not stop.is_set():
            for order in Order.objects.filter(status=OrderStatus.PLACED).order_by("?")[:5]:
                try:
                    if rng.random() < 0.15:
                        cancel_order(order=order, reason=CancelReason.STORE, by=manager, note="soak")
                        stats.count("cancelled")
                    else:
                        mark_ready_for_pickup(order=order, by=manager)
                        stats.count("marked ready")
                except IllegalTransition:
                    pass
            for order in Order.objects.filter(status=OrderStatus.READY_FOR_PICKUP).order_by("?")[:4]:
                try:
                    collect_order(order=order, code=pickup_of(order).code, by=manager)
                    stats.count("collected")
                except IllegalTransition:
                    pass
            # A delivery: stock running low gets counted up again (never below what is reserved).
            for level in StockLevel.objects.select_related("store", "product").filter(on_hand__lt=5).order_by("?")[:5]:
                set_on_hand(store=level.store, product=level.product, on_hand=level.on_hand + 20)
                stats.count("restocked")
            time.sleep(0.3)
    except Exception as error:
        stats.error(f"staff: {error!r}")
    finally:
        connection.close()


# --- processes ---------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(*, database_url, broker_url, queue, mail_dir, port):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "o2o_site.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # django-environ drops the first "/" of the path: four slashes make it absolute.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "NOTIFICATION_RELAY_INTERVAL": "2",
        "NOTIFICATION_RETRY_BACKOFF": "2",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DEBUG": "false",
        # With DEBUG off the shop refuses a published key and a cache in each process's memory
        # (o2o_site/checks.py): a key of its own, and the broker's Redis as the shared cache, the
        # run's stamps apart from any earlier run's.
        "SECRET_KEY": "soak-only-secret-key-not-for-production-0123456789abcdefghijklmnop",
        "CACHE_URL": broker_url,
        "CACHE_KEY_PREFIX": f"{queue}:",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BASE_DIR),
        "PYTHONUNBUFFERED": "1",
    }


class Process:
    def __init__(self, command, *, env, log_path):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def running(self):
        return self.process.poll() is None

    def stop(self):
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def start_server(env, *, port, log_dir, workers=3):
    import urllib.request

    server = Process(
        [
            str(VENV_BIN / "gunicorn"),
            "o2o_site.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--timeout=60",
        ],
        env=env,
        log_path=log_dir / "gunicorn.log",
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            return server
        except OSError:
            if not server.running():
                break
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"gunicorn did not come up:\n{(log_dir / 'gunicorn.log').read_text(errors='replace')}")


def start_worker(env, *, queue, log_dir):
    worker = Process(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "o2o_site",
            "worker",
            "--beat",
            f"--schedule={log_dir / 'celerybeat-schedule'}",
            f"--queues={queue}",
            f"--hostname={queue}@%h",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        log_path=log_dir / "worker.log",
    )
    deadline = time.monotonic() + 30
    while " ready." not in worker.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline or not worker.running():
            worker.stop()
            raise RuntimeError(f"the worker did not start:\n{worker.log_path.read_text(errors='replace')}")
        time.sleep(0.2)
    return worker


# --- the run -----------------------------------------------------------------------------------


@dataclass
class SoakResult:
    seconds: float
    stats: Stats
    notifications: Counter
    emails: int
    duplicate_emails: list
    integrity_returncode: int
    integrity_report: str

    @property
    def ok(self):
        return (
            self.integrity_returncode == 0
            and not self.duplicate_emails
            and not self.stats.errors
            and not any(status >= 500 for status in self.stats.statuses)
        )

    def summary(self):
        lines = [
            f"soak: {self.seconds:.0f} s, {sum(self.stats.requests.values())} requests",
            "  requests: " + ", ".join(f"{kind} {count}" for kind, count in sorted(self.stats.requests.items())),
            "  slowest: "
            + ", ".join(f"{kind} {seconds:.2f} s" for kind, seconds in sorted(self.stats.slowest.items())),
            "  statuses: " + ", ".join(f"{status}: {count}" for status, count in sorted(self.stats.statuses.items())),
            "  shop: " + ", ".join(f"{what} {count}" for what, count in sorted(self.stats.staff.items())),
            "  notifications: "
            + ", ".join(f"{status} {count}" for status, count in sorted(self.notifications.items())),
            f"  e-mails written: {self.emails}, sent twice: {len(self.duplicate_emails)}",
            *(f"  error: {error}" for error in self.stats.errors),
            self.integrity_report.rstrip(),
            "SOAK OK" if self.ok else "SOAK FAILED",
        ]
        return "\n".join(lines)


def run_soak(*, seconds, shoppers, database_url, broker_url, work_dir, manager_id, queue=None):
    """Serve the shop (already migrated and stocked, Django set up on the same database, and this
    process's Celery app sending to `broker_url`/`queue`), load it for `seconds`, then reconcile."""
    from django.db import connection

    from catalog.models import Category, Product
    from orders.models import Notification, NotificationStatus
    from stores.models import StockLevel, Store

    queue = queue or f"o2o-soak-{uuid.uuid4().hex[:10]}"
    work_dir = Path(work_dir)
    mail_dir, log_dir = work_dir / "mail", work_dir / "logs"
    mail_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = environment(database_url=database_url, broker_url=broker_url, queue=queue, mail_dir=mail_dir, port=port)

    stores = list(Store.objects.offering_pickup().values_list("pk", flat=True))
    stocked = StockLevel.objects.filter(store__in=stores, on_hand__gt=0, product__is_active=True)
    products = list(Product.objects.filter(pk__in=stocked.values("product")).values("id", "slug")[:200])
    categories = list(Category.objects.values_list("slug", flat=True)[:20]) or [""]
    connection.close()

    stats, stop = Stats(), threading.Event()
    worker = start_worker(env, queue=queue, log_dir=log_dir)
    server = None
    try:
        server = start_server(env, port=port, log_dir=log_dir)
        threads = [
            threading.Thread(
                target=shopper,
                args=(number,),
                kwargs={
                    "host": "127.0.0.1",
                    "port": port,
                    "products": products,
                    "categories": categories,
                    "stores": stores,
                    "stop": stop,
                    "stats": stats,
                },
                daemon=True,
            )
            for number in range(shoppers)
        ]
        threads.append(
            threading.Thread(target=staff, kwargs={"stop": stop, "stats": stats, "manager_id": manager_id}, daemon=True)
        )
        began = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() - began < seconds:
            time.sleep(1)
            if not (worker.running() and server.running()):
                stats.error("the worker or gunicorn stopped during the run")
                break
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - began

        # The last e-mails go out: every notification settles (sent), none left pending.
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            if not Notification.objects.exclude(status=NotificationStatus.SENT).exists():
                break
            time.sleep(1)
        notifications = Counter(dict(Counter(Notification.objects.values_list("status", flat=True))))
        connection.close()
    finally:
        if server is not None:
            server.stop()
        worker.stop()

    integrity = subprocess.run(
        [sys.executable, "manage.py", "check_integrity", "--stuck-minutes", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    ids = [match for path in mail_dir.glob("*.log") for match in MESSAGE_ID.findall(path.read_bytes())]
    duplicates = sorted(message_id.decode() for message_id, count in Counter(ids).items() if count > 1)
    return SoakResult(
        seconds=elapsed,
        stats=stats,
        notifications=notifications,
        emails=len(ids),
        duplicate_emails=duplicates,
        integrity_returncode=integrity.returncode,
        integrity_report=integrity.stdout + integrity.stderr,
    )


DATABASE_PREFIX = "o2o_soak"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/o2o_soak"
TOOL = "bench/soak.py"


def _prepare_database(database_url, *, reuse):
    """Re-create (or, with reuse, check) the soak's own database, then migrate and seed it; raises
    own_databases.NotOurDatabase, touching nothing, for a database the soak did not create."""
    from bench import own_databases

    if reuse:
        own_databases.check_own_database(database_url, prefix=DATABASE_PREFIX, tool=TOOL)
    else:
        own_databases.recreate_own_database(database_url, prefix=DATABASE_PREFIX, tool=TOOL)
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "o2o_site.settings"}
    # --skip-checks: the production settings checks are for the processes serving the shop (environment()).
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0", "--skip-checks"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    if not reuse:
        # A throwaway database of its own, so the demo logins do no harm here.
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--force", "--skip-checks"], cwd=BASE_DIR, env=env, check=True
        )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--shoppers", type=int, default=8)
    # Never DATABASE_URL: after the README's production set-up it names the shop's own database.
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="its own PostgreSQL database, re-created: named o2o_soak or o2o_soak_<anything> (others are refused)",
    )
    parser.add_argument("--broker-url", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--reuse", action="store_true", help="keep the database (no re-create, no seeding)")
    parser.add_argument("--work-dir", type=Path, default=BASE_DIR / "bench" / "soak-output")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    _prepare_database(args.database_url, reuse=args.reuse)
    os.environ.update(
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_SETTINGS_MODULE="o2o_site.settings",
    )
    queue = f"o2o-soak-{uuid.uuid4().hex[:10]}"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    import django

    django.setup()
    from accounts.models import User

    manager, _created = User.objects.get_or_create(
        username="soak-manager", defaults={"is_staff": True, "is_superuser": True, "email": "soak@example.com"}
    )
    if args.work_dir.exists():
        shutil.rmtree(args.work_dir)
    print(f"soak: {args.minutes} min, {args.shoppers} shoppers, logs in {args.work_dir}", flush=True)
    result = run_soak(
        seconds=args.minutes * 60,
        shoppers=args.shoppers,
        database_url=args.database_url,
        broker_url=args.broker_url,
        work_dir=args.work_dir,
        manager_id=manager.pk,
        queue=queue,
    )
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    started = datetime.datetime.now(datetime.UTC)
    code = main()
    print(f"finished in {(datetime.datetime.now(datetime.UTC) - started).total_seconds():.0f} s")
    sys.exit(code)
