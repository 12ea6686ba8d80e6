"""A realistic traffic mix (issue 16): shoppers in their own sessions, each with a store, a
language and a cart, browsing product pages, categories (sorted, filtered, paged) and searches
drawn from a Zipf-like popularity over the whole catalogue; some add to their cart, some check out.

Two runs, each from an empty cache (the cache's Redis database flushed: pages, fragments, counts
and version stamps; each gunicorn process keeps its store directory):

- "mix": what is asked for follows popularity: the k-th most popular product (categories,
  searches: the same) is asked for in proportion to 1 / k**s (s = 1 by default).
- "misses": every product, category page and search equally likely (uniform over all the
  addresses), so nearly every request is a whole-page cache miss: what the miss path costs.

The requests are generated before the run (`Plan`), written one a line to a file, and sent by wrk
with bench/mix.lua, which replays the file from a given line on and counts the X-Page-Cache header
the whole-page cache sets (o2o_site/cache/pages.py): the hit rate is what the shop answered, not
an estimate. wrk carries each shopper's session in the Cookie header of each of their lines; the
sessions (store, language, cart, CSRF secret) are written to the session store beforehand, as if
each shopper had chosen a store and a language. A shopper's steps are interleaved with some 60
other shoppers', so they keep their order under wrk's few connections.

Checking out needs the token of the checkout page just shown, which a replayed file cannot carry:
it is done beside wrk by `Checkouts`, a few shoppers a second (open loop), each in a session of
their own with a store and a language: a product page, one or two products into the cart, the
checkout page, the order placed for pickup at their store, paid with the Dummy provider. Their
orders change stock, so the version stamps of those products and stores move during the run, as
they do in a shop (and pages showing them are rendered again).
"""

import bisect
import itertools
import json
import random
import re
import secrets
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

from .rush import CSRF_FIELD, Browser, _attempt, _pay

MIX_LUA = Path(__file__).resolve().parent / "mix.lua"
LANGUAGES = ("en", "is", "nb")
SORTS = ("price", "-price", "newest", "name")


@dataclass
class Params:
    """The mix; printed with the results and stored in them."""

    # Popularity: the k-th most popular is asked for in proportion to 1 / k**zipf_s; 0: uniform.
    zipf_s: float = 1.0
    shoppers: int = 3000
    # What a step is: shares of product pages, category lists, searches and the home page.
    product_share: float = 0.50
    category_share: float = 0.30
    search_share: float = 0.15
    home_share: float = 0.05
    # A step on a product page is followed by "add to cart" this often.
    add_to_cart_share: float = 0.08
    # Of category lists and searches: sorted (not by default), only what is in stock at my
    # store (shoppers with a store), a price range; and the page number: page n with weight 1/n,
    # pages 1-8.
    sorted_share: float = 0.30
    available_share: float = 0.15
    price_range_share: float = 0.10
    max_page: int = 8
    # Shoppers without a store of their own; the others choose one with popularity (the
    # big-city stores first), and speak the store's country's language, else English.
    no_store_share: float = 0.2
    english_share: float = 0.3
    # Shoppers who arrive with something in their cart already (1-3 products).
    cart_share: float = 0.4
    # Pages a visit has before the shopper leaves (uniform), and shoppers browsing at once.
    visit_pages: tuple = (3, 12)
    interleaved: int = 64
    # Placing orders beside the browsing (Checkouts), per second, open loop, at most so many at once.
    checkouts_per_second: float = 1.0
    checkouts_in_flight: int = 2


class Popularity:
    """Draws items by rank: the k-th (from 1) with weight 1 / k**s, after a fixed shuffle, so the
    most popular product is not simply the first made. s = 0 is uniform."""

    def __init__(self, items, *, s, rng=None):
        self.items = list(items)
        if rng is not None:  # else in the order given: the first the most popular
            rng.shuffle(self.items)
        weights = [1 / (rank**s) for rank in range(1, len(self.items) + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng):
        point = rng.random() * self.cumulative[-1]
        return self.items[min(bisect.bisect_left(self.cumulative, point), len(self.items) - 1)]


@dataclass
class Shopper:
    session_key: str
    csrf: str
    store_id: int | None
    language: str

    @property
    def cookie(self):
        from django.conf import settings

        return (
            f"{settings.SESSION_COOKIE_NAME}={self.session_key}; {settings.CSRF_COOKIE_NAME}={self.csrf}; "
            f"{settings.LANGUAGE_COOKIE_NAME}={self.language}"
        )


@dataclass
class Catalogue:
    products: list  # (id, slug, name)
    categories: list  # slugs
    stores: list  # (id, country)


def read_catalogue() -> Catalogue:
    from catalog.models import Category, Product
    from stores.models import Store

    return Catalogue(
        products=list(Product.objects.active().styles().order_by("pk").values_list("pk", "slug", "name")),
        categories=list(Category.objects.order_by("pk").values_list("slug", flat=True)),
        stores=list(Store.objects.for_shoppers().order_by("pk").values_list("pk", "country")),
    )


def new_session(*, store_id: int | None, cart: dict | None = None) -> str:
    """A session in the shop's session store with my store (or none) and a cart, as if the
    shopper had chosen them; its key (the session cookie's value)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from o2o_site.cache.pages import CART_SESSION_KEY
    from stores.selectors import MY_STORE_SESSION_KEY

    session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    if store_id is not None:
        session[MY_STORE_SESSION_KEY] = store_id
    if cart:
        session[CART_SESSION_KEY] = {str(product_id): quantity for product_id, quantity in cart.items()}
    session.create()  # saves it
    return session.session_key


def language_of(store, params: Params, rng: random.Random) -> str:
    """The store's country's language, else (no store, or a share of shoppers) English."""
    if store is None or rng.random() < params.english_share:
        return "en"
    return "is" if store[1] == "IS" else "nb"


def make_shoppers(catalogue: Catalogue, params: Params, rng: random.Random) -> list[Shopper]:
    """params.shoppers sessions, each with a store chosen by popularity (or none), a language
    and perhaps a cart; and a CSRF secret for their forms."""
    stores = Popularity(catalogue.stores, s=params.zipf_s, rng=rng)
    products = Popularity(catalogue.products, s=params.zipf_s, rng=rng)
    shoppers = []
    for _number in range(params.shoppers):
        store = None if rng.random() < params.no_store_share else stores.draw(rng)
        cart = None
        if rng.random() < params.cart_share:
            cart = {products.draw(rng)[0]: rng.randint(1, 2) for _line in range(rng.randint(1, 3))}
        shoppers.append(
            Shopper(
                session_key=new_session(store_id=store[0] if store else None, cart=cart),
                csrf=secrets.token_hex(16),  # 32 characters: Django's unmasked CSRF secret
                store_id=store[0] if store else None,
                language=language_of(store, params, rng),
            )
        )
    return shoppers


class Plan:
    """The requests of one run, written to a file for bench/mix.lua."""

    def __init__(self, catalogue: Catalogue, shoppers: list[Shopper], params: Params, *, seed: int, add_to_cart=True):
        self.catalogue, self.shoppers, self.params = catalogue, shoppers, params
        self.rng = random.Random(seed)
        self.add_to_cart = add_to_cart
        self.products = Popularity(catalogue.products, s=params.zipf_s, rng=self.rng)
        self.categories = Popularity(catalogue.categories, s=params.zipf_s, rng=self.rng)
        # Searches: words of a product's name as shoppers type them, the product drawn by popularity.
        self.searches = Popularity(catalogue.products, s=params.zipf_s, rng=self.rng)
        self.pages = Popularity(range(1, params.max_page + 1), s=1)
        self.kinds = Counter()

    def write(self, path: Path, *, lines: int) -> None:
        active = [self._visit() for _slot in range(self.params.interleaved)]
        with path.open("w") as out:
            for _number in range(lines):
                slot = self.rng.randrange(len(active))
                step = next(active[slot], None)
                while step is None:
                    active[slot] = self._visit()
                    step = next(active[slot], None)
                out.write("\t".join(step) + "\n")

    def repeat_share(self, path: Path, *, lines: int) -> float:
        """Of the first `lines` requests of the file, the share of page views (GET) asking for a
        page some earlier one asked for: the same address, language and, for "in stock at my
        store", store. No cache can answer more of them than this from an empty start (a page
        seen for the first time is a miss however the cache is built): the hit rate's ceiling."""
        shoppers = {shopper.cookie: shopper for shopper in self.shoppers}
        seen, views, repeats = set(), 0, 0
        with path.open() as lines_file:
            for line in itertools.islice(lines_file, lines):
                method, address, cookie, _body = line.rstrip("\n").split("\t")
                if method != "GET":
                    continue
                shopper = shoppers[cookie]
                page = (address, shopper.language, shopper.store_id if "available=1" in address else None)
                views += 1
                repeats += page in seen
                seen.add(page)
        return repeats / views if views else 0.0

    def _visit(self):
        shopper = self.rng.choice(self.shoppers)
        rng, params = self.rng, self.params
        for _page in range(rng.randint(*params.visit_pages)):
            roll = rng.random()
            if roll < params.product_share:
                product_id, slug, _name = self.products.draw(rng)
                self.kinds["product page"] += 1
                yield ("GET", f"/products/{slug}/", shopper.cookie, "")
                if self.add_to_cart and rng.random() < params.add_to_cart_share:
                    self.kinds["add to cart"] += 1
                    form = {
                        "csrfmiddlewaretoken": shopper.csrf,
                        "product_id": product_id,
                        "quantity": 1,
                        "next": f"/products/{slug}/",
                    }
                    yield ("POST", "/cart/add/", shopper.cookie, urlencode(form))
            elif roll < params.product_share + params.category_share:
                self.kinds["category"] += 1
                yield (
                    "GET",
                    "/?" + urlencode(self._listing(shopper, category=self.categories.draw(rng))),
                    shopper.cookie,
                    "",
                )
            elif roll < params.product_share + params.category_share + params.search_share:
                self.kinds["search"] += 1
                yield ("GET", "/?" + urlencode(self._listing(shopper, search=self._search())), shopper.cookie, "")
            else:
                self.kinds["home"] += 1
                yield ("GET", "/", shopper.cookie, "")

    def _search(self):
        _id, _slug, name = self.searches.draw(self.rng)
        words = name.split()  # "Lava wool lamp 00042": two words, the noun, or the whole name
        if len(words) < 3:
            return name.lower()
        return self.rng.choice([f"{words[0]} {words[2]}", words[2], f"{words[1]} {words[2]}", name]).lower()

    def _listing(self, shopper, *, category=None, search=None):
        rng, params = self.rng, self.params
        query = {"category": category} if category else {"q": search}
        if rng.random() < params.sorted_share:
            query["sort"] = rng.choice(SORTS)
        if shopper.store_id is not None and rng.random() < params.available_share:
            query["available"] = "1"
        if rng.random() < params.price_range_share:
            low = rng.choice((0, 1000, 5000, 10000))
            query.update(min_price=low, max_price=low + rng.choice((5000, 20000)))
        # Page n with weight 1/n: most shoppers look at the first page only.
        page = self.pages.draw(rng)
        if page > 1:
            query["page"] = page
        return query


class Counter(dict):
    def __missing__(self, key):
        return 0


class Checkouts:
    """Shoppers placing pickup orders beside the browsing, params.checkouts_per_second of them
    (open loop: one starts every 1/rate s on average, whether the last has finished or not, as
    long as fewer than params.checkouts_in_flight are under way), each in their own
    session with a store and a language: a product page, one or two popular products in stock
    at their store into the cart, the checkout page, the order placed (timed) and paid."""

    def __init__(self, *, host, port, catalogue, params, rng):
        from django.db.models import F

        from stores.models import StockLevel

        self.host, self.port, self.params, self.rng = host, port, params, rng
        self.products = Popularity(catalogue.products, s=params.zipf_s, rng=rng)
        self.stores = Popularity(catalogue.stores, s=params.zipf_s, rng=rng)
        self.slugs = {pk: slug for pk, slug, _name in catalogue.products}
        self.in_stock = StockLevel.objects.filter(on_hand__gt=F("reserved"))
        self.placing, self.outcomes, self.errors = [], Counter(), []
        self.lock, self.stop_event = threading.Lock(), threading.Event()
        self.threads = []

    def start(self):
        self.runner = threading.Thread(target=self._run, daemon=True)
        self.runner.start()

    def stop(self):
        self.stop_event.set()
        self.runner.join()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self):
        number = 0
        while not self.stop_event.wait(self.rng.expovariate(self.params.checkouts_per_second)):
            if sum(thread.is_alive() for thread in self.threads) >= self.params.checkouts_in_flight:
                # A loaded server would otherwise gather an ever longer queue of checkouts.
                self._count("not started: checkouts in flight already")
                continue
            store = self.stores.draw(self.rng)
            language = language_of(store, self.params, self.rng)
            wanted = [self.products.draw(self.rng)[0] for _line in range(self.rng.randint(1, 2))]
            thread = threading.Thread(target=self._check_out, args=(number, store[0], language, wanted), daemon=True)
            number += 1
            self.threads.append(thread)
            thread.start()

    def _check_out(self, number, store_id, language, wanted):
        from django.conf import settings
        from django.db import connection

        try:
            # What the shopper would find in stock at their store (a shopper does not add what
            # the page says is sold out).
            products = list(
                self.in_stock.filter(store_id=store_id, product_id__in=wanted).values_list("product_id", flat=True)
            )
            if not products:
                connection.close()
                self._count("nothing in stock at the store")
                return
            browser = Browser(self.host, self.port)
            browser.cookies.update(
                {
                    settings.SESSION_COOKIE_NAME: new_session(store_id=store_id),
                    settings.LANGUAGE_COOKIE_NAME: language,
                }
            )
            connection.close()  # this thread's: the shop's own connections do the rest
            _status, _headers, page = browser.request("GET", f"/products/{self.slugs[products[0]]}/")
            csrf = CSRF_FIELD.search(page).group(1)
            for product_id in products:
                browser.request(
                    "POST", "/cart/add/", {"csrfmiddlewaretoken": csrf, "product_id": product_id, "quantity": 1}
                )
            _status, _headers, page = browser.request("GET", "/checkout/")
            token = re.search(r'name="checkout_token" value="([^"]+)"', page)
            if token is None:
                self._count("no checkout form")
                return
            form = {
                "csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1),
                "checkout_token": token.group(1),
                "store": store_id,
                "name": f"Mix shopper {number}",
                "email": f"mix-{number}@bench.example",
                "phone": "+354 555 1234",
                f"payment-{store_id}": "dummy",
            }
            began = time.perf_counter()
            status, headers, page = browser.request("POST", "/checkout/", form)
            attempt = _attempt(time.perf_counter() - began, status, headers, page)
            with self.lock:
                self.placing.append(attempt.seconds)
            if not attempt.placed:
                self._count(f"refused: {attempt.refusal}" + (f" ({attempt.detail})" if attempt.detail else ""))
                return
            if "/payments/" in attempt.location:
                _pay(browser, attempt, random.Random(number))  # 3-8 s to type a card
            self._count("placed and paid" if attempt.paid else "placed, payment not authorised")
        except Exception as error:  # reported, not hidden
            with self.lock:
                self.errors.append(f"checkout {number}: {error!r}")

    def _count(self, outcome):
        with self.lock:
            self.outcomes[outcome] += 1

    def figures(self):
        from . import __main__ as bench

        placing = sorted(seconds * 1000 for seconds in self.placing)
        return {
            "rate_per_second": self.params.checkouts_per_second,
            "started": len(self.threads),
            "outcomes": dict(self.outcomes),
            "placing_p50_ms": bench.percentile(placing, 50) if placing else None,
            "placing_p95_ms": bench.percentile(placing, 95) if placing else None,
            "errors": self.errors[:10],
        }


def run_wrk_mix(url, args, *, seconds, requests_file, offset):
    """wrk with bench/mix.lua from line `offset`: report.lua's figures and the cache's answers."""
    completed = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--latency",
            # A miss on a loaded machine can take seconds: wrk's default 2 s would count it as an
            # error, reconnect and send another while gunicorn still works on the first.
            "--timeout",
            "30s",
            "-s",
            str(MIX_LUA),
            url,
            "--",
            str(requests_file),
            str(offset),
            str(args.threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = {}
    for line in completed.stdout.splitlines():
        for tag in ("BENCH-JSON ", "BENCH-MIX "):
            if line.startswith(tag):
                found.update(json.loads(line.removeprefix(tag)))
    found["requests_per_second"] = found["requests"] / (found["duration_us"] / 1e6)
    return found


def measure(args, server, *, params: Params, uniform: bool, flush_cache):
    """One run (the mix, or with `uniform` the misses alone) from an empty cache, in
    args.slices slices, each right after a run of the bare view as long (as bench/run's pages):
    figures are medians over the slices, the ratio the median of each slice's ratio to the bare
    run before it; the hit rate is over every shared page answered in the run."""
    from . import __main__ as bench

    if uniform:
        params = Params(**{**asdict(params), "zipf_s": 0.0})
    rng = random.Random(16)
    catalogue = read_catalogue()
    shoppers = make_shoppers(catalogue, params, rng)
    plan = Plan(catalogue, shoppers, params, seed=1 if uniform else 2, add_to_cart=not uniform)
    requests_file = bench.RESULTS_DIR / f"mix-{'misses' if uniform else 'zipf'}.requests"
    bench.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # More lines than any run sends (a replayed line would be a hit it did not earn).
    plan.write(requests_file, lines=args.mix_lines)
    seconds = max(1, round(args.duration / args.slices))
    bare_url = server.url + "/bench/bare/"
    bench.check_page(bare_url)
    # A second of warm-up on the bare view, not counted: each gunicorn worker's first requests.
    bench.run_wrk(bare_url, args, seconds=1)
    flush_cache()
    checkouts = None
    if not uniform and params.checkouts_per_second > 0:
        checkouts = Checkouts(host="127.0.0.1", port=args.port, catalogue=catalogue, params=params, rng=rng)
    offset, pages, bares = 0, [], []
    try:
        for _slice in range(args.slices):
            bares.append(bench.run_wrk(bare_url, args, seconds=seconds))
            if checkouts is not None and not checkouts.threads:
                checkouts.start()
            page = run_wrk_mix(server.url, args, seconds=seconds, requests_file=requests_file, offset=offset)
            offset += page["lines_used"]
            pages.append(page)
            print(
                f"    slice: bare {bares[-1]['requests_per_second']:.0f} req/s; "
                f"{page['requests_per_second']:.0f} req/s, "
                f"p95 {page['p95_ms']:.1f} ms, {page['hits']} hits, {page['misses']} misses, "
                f"{page['unshared']} not shared",
                flush=True,
            )
    finally:
        if checkouts is not None and checkouts.threads:
            checkouts.stop()
    figures = bench.combine([{key: value for key, value in page.items() if key != "wrapped"} for page in pages])
    for key in ("hits", "misses", "unshared", "status_4xx_5xx", "lines_used"):
        figures[key] = sum(page[key] for page in pages)
    shared = figures["hits"] + figures["misses"]
    figures["hit_rate"] = figures["hits"] / shared if shared else 0.0
    figures["repeat_share"] = plan.repeat_share(requests_file, lines=offset)
    figures["wrapped"] = any(page["wrapped"] for page in pages) or offset > args.mix_lines
    figures["ratio_to_bare"] = bench.statistics.median(
        page["requests_per_second"] / bare["requests_per_second"] if bare["requests_per_second"] else 0.0
        for page, bare in zip(pages, bares, strict=True)
    )
    figures["bare_requests_per_second"] = bench.statistics.median(bare["requests_per_second"] for bare in bares)
    figures["slices"] = [
        {
            "requests_per_second": page["requests_per_second"],
            "p95_ms": page["p95_ms"],
            "bare": bare["requests_per_second"],
        }
        for page, bare in zip(pages, bares, strict=True)
    ]
    figures["params"] = asdict(params)
    figures["steps_planned"] = dict(plan.kinds)
    figures["shoppers"] = len(shoppers)
    figures["load_average"] = list(bench.os.getloadavg())
    if checkouts is not None:
        figures["checkouts"] = checkouts.figures()
    return figures


def describe(params: Params) -> str:
    return describe_params(asdict(params))


def describe_params(params: dict) -> str:
    """The mix in one line, as printed with the results."""
    return (
        f"{params['shoppers']} shoppers (sessions; {params['no_store_share']:.0%} without a store, the others' "
        f"stores by popularity; the store's language, or English for {params['english_share']:.0%}; "
        f"{params['cart_share']:.0%} with a cart), Zipf s = {params['zipf_s']:g} over the whole catalogue; "
        f"steps: product page {params['product_share']:.0%} (then add to cart {params['add_to_cart_share']:.0%}), "
        f"category {params['category_share']:.0%}, search {params['search_share']:.0%}, "
        f"home {params['home_share']:.0%}; lists sorted {params['sorted_share']:.0%}, in stock at my store "
        f"{params['available_share']:.0%}, a price range {params['price_range_share']:.0%}, page n of 1-"
        f"{params['max_page']} with weight 1/n; {params['visit_pages'][0]}-{params['visit_pages'][1]} pages a "
        f"visit, {params['interleaved']} visits interleaved; {params['checkouts_per_second']:g} checkouts/s beside "
        f"(at most {params.get('checkouts_in_flight', 2)} at once) "
        "(the misses run: uniform, no carts added to, no checkouts)"
    )


def line(name: str, figures: dict) -> str:
    """One run's figures in one line."""
    text = (
        f"{name:<7} {figures['requests_per_second']:7.0f} req/s  p50 {figures['p50_ms']:6.2f}  "
        f"p95 {figures['p95_ms']:6.2f}  p99 {figures['p99_ms']:6.2f} ms  {figures['ratio_to_bare']:.2f} × bare "
        f"({figures['bare_requests_per_second']:.0f} req/s)  hit rate {figures['hit_rate']:.1%} "
        f"({figures['hits']} hits, {figures['misses']} misses, {figures['unshared']} not shared; "
        f"asked for before: {figures.get('repeat_share', float('nan')):.1%})  "
        f"errors {figures['status_4xx_5xx'] + figures['socket_errors']}  "
        f"load {' '.join(f'{load:.1f}' for load in figures['load_average'])}"
    )
    if figures.get("wrapped"):
        text += "  (requests file replayed: raise --mix-lines)"
    checkouts = figures.get("checkouts")
    if checkouts:
        text += (
            f"\n          checkouts beside: {checkouts['started']} started at {checkouts['rate_per_second']:g}/s, "
            f"placing p50 {checkouts['placing_p50_ms'] or 0:.0f} ms, p95 {checkouts['placing_p95_ms'] or 0:.0f} ms; "
            f"{checkouts['outcomes']}; errors {checkouts['errors']}"
        )
    return text
