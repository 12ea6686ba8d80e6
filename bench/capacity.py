"""Checkout capacity (issue 16): the most checkouts a second the shop sustains, and a flash sale.

Capacity: shoppers spread over every store of the benchmark (300), each with one or two products
in the cart to pick up at their own store, arrive at a fixed rate, open loop: the arrivals are
scheduled before the step starts (the n-th at n / rate seconds) and do not wait for the answers
to earlier ones, and each checkout's time runs from its scheduled arrival, not from when a client
thread got round to sending it. So a slow server is charged for the queue it causes (no
"coordinated omission", as in wrk2 and Gil Tene's talk of that name). The rate is stepped up
until the p95 passes CAPACITY_P95_MS (or a step answers with errors); the figure is the highest
rate whose step kept the p95 within it, placed every order and answered no error.

Flash sale: one product, stocked at FLASH_STORES stores only (FLASH_UNITS units in all), and
FLASH_SHOPPERS shoppers each with one unit in the cart, all placing their order at the same
moment. Exactly FLASH_UNITS units must be sold, none oversold, no deadlock (PostgreSQL's
pg_stat_database counter for the bench database), no error answer: a shopper too late is shown
the checkout page saying the product is sold out at their store.

Only the placing POST is timed. Each shopper's session (the product page, the cart, the checkout
page with its one-time token) is prepared before the step, closed loop, so the preparation's load
never overlaps the measured arrivals.
"""

import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db.models import F, Sum

from orders.models import Order, OrderLine, OrderStatus
from stores.models import StockLevel

from .rush import CHECKOUT_TOKEN_FIELD, CSRF_FIELD, Browser, deadlocks_so_far, refusal_of

CAPACITY_P95_MS = 300.0
CAPACITY_TARGET_PER_SECOND = 50.0
FLASH_UNITS = 100
FLASH_STORES = 3
FLASH_SHOPPERS = 1000
FLASH_SECONDS_MAX = 10.0
# Client threads sending the scheduled arrivals: more than the server can hold at once (four
# gunicorn workers), so a late answer delays no later arrival's sending until this many are out.
SENDERS = 128
# Threads preparing the shoppers' sessions (not timed).
PREPARERS = 8
PAY_AT_PICKUP = "at_pickup"
ANSWER_TIMEOUT_SECONDS = 300


@dataclass
class Shopper:
    """One prepared session: its browser, the store it picks up at and the checkout form to post."""

    number: int
    browser: Browser
    store_id: int
    form: dict
    quantities: dict


@dataclass
class Outcome:
    seconds: float  # from the scheduled arrival (capacity) or the common start (flash) to the answer
    status: int
    placed: bool
    refusal: str = ""
    error: str = ""


@dataclass
class StepResult:
    rate: float
    seconds: float
    outcomes: list = field(default_factory=list)
    wall_seconds: float = 0.0
    late_sends: int = 0  # arrivals sent more than 10 ms after their scheduled time (senders all busy)

    def figures(self):
        from .__main__ import percentile

        timed = sorted(outcome.seconds for outcome in self.outcomes)
        placed = sum(outcome.placed for outcome in self.outcomes)
        errors = [outcome for outcome in self.outcomes if outcome.error or outcome.status >= 500]
        return {
            "rate": self.rate,
            "arrivals": len(self.outcomes),
            "placed": placed,
            "placed_per_second": placed / self.wall_seconds if self.wall_seconds else 0.0,
            "wall_seconds": self.wall_seconds,
            "p50_ms": percentile(timed, 50) * 1000,
            "p95_ms": percentile(timed, 95) * 1000,
            "p99_ms": percentile(timed, 99) * 1000,
            "max_ms": timed[-1] * 1000 if timed else float("nan"),
            "errors": len(errors),
            "error_examples": [outcome.error or f"HTTP {outcome.status}" for outcome in errors][:5],
            "refusals": _count(outcome.refusal for outcome in self.outcomes if outcome.refusal),
            "late_sends": self.late_sends,
        }


def _count(values):
    counted = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return counted


def prepare_shopper(number, *, host, port, store_id, products, quantity=1):
    """A shopper's session, as a browser would make it: the first product's page, each product
    added to the cart to pick up at `store_id` (which becomes the shopper's store), the checkout
    page (its CSRF token and one-time checkout token). `products`: [{"id", "slug"}]."""
    browser = Browser(host, port)
    # A slow answer is timed as slow (the verdicts judge it), not dropped as an error after the
    # rush's 60 s.
    browser.connection.timeout = ANSWER_TIMEOUT_SECONDS
    status, _headers, page = browser.request("GET", f"/products/{products[0]['slug']}/")
    if status != 200:
        raise RuntimeError(f"product page answered {status}")
    csrf = CSRF_FIELD.search(page).group(1)
    for product in products:
        form = {"csrfmiddlewaretoken": csrf, "product_id": product["id"], "quantity": quantity}
        form["pickup_store"] = store_id
        status, _headers, _page = browser.request("POST", "/cart/add/", form)
        if status != 302:
            raise RuntimeError(f"adding to the cart answered {status}")
    status, _headers, page = browser.request("GET", "/checkout/")
    token = CHECKOUT_TOKEN_FIELD.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"the checkout page answered {status} without a checkout token")
    form = {
        "csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1),
        "checkout_token": token.group(1),
        "store": store_id,
        "name": f"Capacity shopper {number}",
        "email": f"capacity-{number}@bench.example",
        "phone": "+354 555 1234",
        f"payment-{store_id}": PAY_AT_PICKUP,
    }
    return Shopper(
        number=number,
        browser=browser,
        store_id=store_id,
        form=form,
        quantities={product["id"]: quantity for product in products},
    )


def prepare(plans, *, host, port):
    """Prepared shoppers for `plans` ([(number, store_id, products, quantity)]), PREPARERS at a time."""
    with ThreadPoolExecutor(PREPARERS) as pool:
        return list(
            pool.map(
                lambda plan: prepare_shopper(
                    plan[0], host=host, port=port, store_id=plan[1], products=plan[2], quantity=plan[3]
                ),
                plans,
            )
        )


def _place(shopper, began) -> Outcome:
    try:
        status, headers, page = shopper.browser.request("POST", "/checkout/", shopper.form)
    except Exception as error:  # a broken connection is reported, not hidden
        return Outcome(seconds=time.perf_counter() - began, status=0, placed=False, error=repr(error))
    location = headers.get("Location", "")
    placed = status == 302 and ("/orders/" in location or "/payments/" in location)
    refusal = "" if placed else refusal_of(status, page)
    return Outcome(seconds=time.perf_counter() - began, status=status, placed=placed, refusal=refusal)


def run_open_loop(shoppers, *, rate) -> StepResult:
    """Post each shopper's checkout at its scheduled arrival, the n-th at n / `rate` seconds,
    whether or not earlier ones have been answered; each timed from its scheduled arrival."""
    result = StepResult(rate=rate, seconds=len(shoppers) / rate)
    arrivals = queue.Queue()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    for number, shopper in enumerate(shoppers):
        arrivals.put((start + number / rate, shopper))

    def send():
        while True:
            try:
                due, shopper = arrivals.get_nowait()
            except queue.Empty:
                return
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.01:
                with lock:
                    result.late_sends += 1
            outcome = _place(shopper, due)
            with lock:
                result.outcomes.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(min(SENDERS, len(shoppers)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - start
    return result


def run_at_once(shoppers) -> StepResult:
    """Every shopper posts their checkout at the same moment, each on a thread of its own; each
    timed from that moment."""
    result = StepResult(rate=float("inf"), seconds=0.0)
    lock, go = threading.Lock(), threading.Event()
    began = [0.0]

    def send(shopper):
        go.wait()
        outcome = _place(shopper, began[0])
        with lock:
            result.outcomes.append(outcome)

    threads = [threading.Thread(target=send, args=(shopper,)) for shopper in shoppers]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every thread waiting on the event
    began[0] = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - began[0]
    return result


# --- capacity ---------------------------------------------------------------------------------


def capacity_plans(*, count, first_number, store_ids, product_rows, rng):
    """`count` shoppers, each at a store drawn uniformly from `store_ids`, with one or two of
    `product_rows` ([{"id", "slug"}], drawn uniformly) in the cart, one unit each."""
    return [
        (first_number + index, rng.choice(store_ids), rng.sample(product_rows, rng.randint(1, 2)), 1)
        for index in range(count)
    ]


def stock_up(plans, *, units=1000):
    """A delivery before the step (bench only): every (store, product) of `plans` gets `units`
    more for sale than it has reserved, so no capacity checkout is refused for stock."""
    pairs = {(plan[1], product["id"]) for plan in plans for product in plan[2]}
    by_store = {}
    for store_id, product_id in pairs:
        by_store.setdefault(store_id, []).append(product_id)
    for store_id, product_ids in by_store.items():
        StockLevel.objects.filter(store_id=store_id, product_id__in=product_ids).update(on_hand=F("reserved") + units)


def measure_capacity(*, host, port, store_ids, product_rows, rates, step_seconds, log=print):
    """Step the arrival rate through `rates` (checkouts a second), `step_seconds` each, until a
    step's p95 passes CAPACITY_P95_MS or it answers an error. Returns the steps' figures and the
    highest rate sustained (None when even the first step was not)."""
    rng = random.Random(16)
    steps, sustained, number = [], None, 0
    deadlocks_before = deadlocks_so_far()
    # A warm-up not counted: every gunicorn worker's first checkout fills its process-local state.
    warm = capacity_plans(count=20, first_number=900_000, store_ids=store_ids, product_rows=product_rows, rng=rng)
    stock_up(warm)
    run_open_loop(prepare(warm, host=host, port=port), rate=10)
    for rate in rates:
        count = max(1, round(rate * step_seconds))
        plans = capacity_plans(
            count=count, first_number=number, store_ids=store_ids, product_rows=product_rows, rng=rng
        )
        number += count
        stock_up(plans)
        shoppers = prepare(plans, host=host, port=port)
        figures = run_open_loop(shoppers, rate=rate).figures()
        steps.append(figures)
        log(
            f"  {rate:5.0f}/s offered: {figures['placed']}/{figures['arrivals']} placed "
            f"({figures['placed_per_second']:.1f}/s), p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
            f"p99 {figures['p99_ms']:.0f} ms, errors {figures['errors']}, refused {figures['refusals']}, "
            f"late sends {figures['late_sends']}"
        )
        held = (
            figures["p95_ms"] <= CAPACITY_P95_MS and figures["errors"] == 0 and figures["placed"] == figures["arrivals"]
        )
        if not held:
            break
        sustained = rate
    return {
        "step_seconds": step_seconds,
        "stores": len(store_ids),
        "products": len(product_rows),
        "steps": steps,
        "sustained_per_second": sustained,
        "deadlocks": deadlocks_so_far() - deadlocks_before,
    }


# --- flash sale -------------------------------------------------------------------------------


def flash_split(units, stores):
    """`units` spread over `stores` as evenly as whole units go: [34, 33, 33] for 100 over 3."""
    return [units // stores + (1 if index < units % stores else 0) for index in range(stores)]


def set_flash_stock(*, product_id, store_ids, units):
    """Stock the flash sale's product at `store_ids` only, `units` for sale in all; every other
    store has none for sale (bench only). Returns the units reserved before, by store."""
    StockLevel.objects.filter(product_id=product_id).exclude(store_id__in=store_ids).update(on_hand=F("reserved"))
    for store_id, share in zip(store_ids, flash_split(units, len(store_ids)), strict=True):
        StockLevel.objects.filter(product_id=product_id, store_id=store_id).update(on_hand=F("reserved") + share)
    return dict(
        StockLevel.objects.filter(product_id=product_id, store_id__in=store_ids).values_list("store_id", "reserved")
    )


def measure_flash(*, host, port, product, store_ids, shoppers=FLASH_SHOPPERS, units=FLASH_UNITS, log=print):
    """The flash sale: `shoppers` shoppers spread evenly over `store_ids`, one unit of `product`
    ({"id", "slug"}) each, all placing at once. Returns its figures."""
    reserved_before = set_flash_stock(product_id=product["id"], store_ids=store_ids, units=units)
    last_order = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    plans = [(2_000_000 + number, store_ids[number % len(store_ids)], [product], 1) for number in range(shoppers)]
    prepared = prepare(plans, host=host, port=port)
    deadlocks_before = deadlocks_so_far()
    result = run_at_once(prepared)
    deadlocks = deadlocks_so_far() - deadlocks_before
    figures = result.figures()
    sold = (
        OrderLine.objects.filter(
            order__pk__gt=last_order,
            order__status__in=(OrderStatus.PLACED, OrderStatus.AWAITING_PAYMENT),
            product_id=product["id"],
        ).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    levels = list(StockLevel.objects.filter(product_id=product["id"], store_id__in=store_ids))
    oversold = sum(max(0, level.reserved - level.on_hand) for level in levels) + max(0, sold - units)
    refused = [outcome for outcome in result.outcomes if not outcome.placed]
    figures.update(
        shoppers=shoppers,
        units=units,
        stores=len(store_ids),
        units_sold=sold,
        units_reserved=sum(level.reserved - reserved_before[level.store_id] for level in levels),
        oversold_units=oversold,
        deadlocks=deadlocks,
        refused=len(refused),
        refused_not_sold_out=sum(1 for outcome in refused if outcome.refusal != "sold out"),
    )
    log(
        f"  {shoppers} shoppers for {units} units at {len(store_ids)} stores: {sold} sold in "
        f"{figures['wall_seconds']:.1f} s, oversold {oversold}, deadlocks {deadlocks}, errors {figures['errors']}, "
        f"refused {figures['refusals']}, p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms"
    )
    return figures


def flash_passed(figures):
    return (
        figures["units_sold"] == figures["units"] == figures["units_reserved"] == figures["placed"]
        and figures["oversold_units"] == 0
        and figures["deadlocks"] == 0
        and figures["errors"] == 0
        and figures["refused_not_sold_out"] == 0
        and figures["placed"] + figures["refused"] == figures["shoppers"]
        and figures["wall_seconds"] < FLASH_SECONDS_MAX
    )
