"""Local delivery at chain scale: a postcode table of 10 000 postcodes, delivery zones and windows
for every store, the rush's delivery windows with few places, the delivery-options lookup timed
in this process, and the windows counted after a rush (none may hold more than its places).

Run inside the bench process after django.setup(), like bench/seed.py.
"""

import datetime
import math
import random
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from delivery.integrity import check_deliveries
from delivery.models import DeliveryWindow, DeliveryZone, ZoneKind
from delivery.selectors import PostcodeProblem, delivery_directory, delivery_options, forget_directory
from delivery.services import delivery_changed
from o2o_site.cache import stamps
from stores.models import PostcodeLocation, Store
from stores.selectors import distance_km

# 900 Icelandic postcodes (3 digits) and 9 100 Norwegian ones (4 digits): 10 000 in all.
ICELANDIC_POSTCODES = [f"{number:03d}" for number in range(100, 1000)]
NORWEGIAN_POSTCODES = [f"{number:04d}" for number in range(1, 9101)]
# Every store's van: two windows a day, 20 orders each (the lookup's stores).
STORE_WINDOWS = (
    (datetime.time(12), datetime.time(14), datetime.time(10)),
    (datetime.time(17), datetime.time(19), datetime.time(15)),
)
# The rush's stores: four windows a day with RUSH_WINDOW_PLACES places each, so the earliest
# windows fill during a round and the last place is fought over.
RUSH_WINDOWS = tuple(
    (datetime.time(hour), datetime.time(hour + 2), datetime.time(hour - 1)) for hour in (9, 12, 15, 18)
)
RUSH_WINDOW_PLACES = 3
RUSH_DAYS_AHEAD = 6
RADIUS_KM = Decimal("60")


@dataclass(frozen=True)
class DeliveryAddress:
    street: str
    postcode: str
    city: str
    country: str


def _postcodes(country):
    return ICELANDIC_POSTCODES if country == "IS" else NORWEGIAN_POSTCODES


def seed_delivery(stores: list[Store], *, hot_stores: list[Store], regions, rng: random.Random) -> int:
    """The postcode table (scattered over `regions`, Iceland's then Norway's, as the stores are),
    three zones per store (a short postcode range, a radius, a wider range) and two windows a
    day; the hot stores also deliver to their whole country, RUSH_WINDOW_PLACES places a window.
    Returns the number of postcodes."""
    rows = []
    for country, region, postcodes in (
        ("IS", regions[0], ICELANDIC_POSTCODES),
        ("NO", regions[1], NORWEGIAN_POSTCODES),
    ):
        south, north, west, east = region
        rows += [
            PostcodeLocation(
                country=country,
                postcode=postcode,
                place_name=f"Bench place {postcode}",
                latitude=Decimal(f"{rng.uniform(south, north):.6f}"),
                longitude=Decimal(f"{rng.uniform(west, east):.6f}"),
            )
            for postcode in postcodes
        ]
    hot = {store.pk for store in hot_stores}
    zones, windows = [], []
    for store in stores:
        postcodes = _postcodes(store.country)
        middle = rng.randrange(len(postcodes))
        near = postcodes[max(0, middle - 20)], postcodes[min(len(postcodes) - 1, middle + 20)]
        wide = postcodes[max(0, middle - 100)], postcodes[min(len(postcodes) - 1, middle + 100)]
        zones += [
            DeliveryZone(
                store=store, name="Near", kind=ZoneKind.POSTCODES, postcodes="-".join(near), fee=Decimal("990")
            ),
            DeliveryZone(store=store, name="Around", kind=ZoneKind.RADIUS, radius_km=RADIUS_KM, fee=Decimal("1490")),
            DeliveryZone(
                store=store,
                name="Wide",
                kind=ZoneKind.POSTCODES,
                postcodes="-".join(wide),
                fee=Decimal("1990"),
                free_above=Decimal("20000"),
            ),
        ]
        if store.pk in hot:
            zones.append(
                DeliveryZone(
                    store=store,
                    name="Rush",
                    kind=ZoneKind.POSTCODES,
                    postcodes=f"{postcodes[0]}-{postcodes[-1]}",
                    fee=Decimal("490"),
                    lead_time_minutes=60,
                    days_ahead=RUSH_DAYS_AHEAD,
                )
            )
        times, places = (RUSH_WINDOWS, RUSH_WINDOW_PLACES) if store.pk in hot else (STORE_WINDOWS, 20)
        windows += [
            DeliveryWindow(store=store, weekday=day, starts=starts, ends=ends, cutoff=cutoff, capacity=places)
            for day in range(7)
            for starts, ends, cutoff in times
        ]
    with transaction.atomic():
        PostcodeLocation.objects.bulk_create(rows, batch_size=5000)
        DeliveryZone.objects.bulk_create(zones, batch_size=5000)
        DeliveryWindow.objects.bulk_create(windows, batch_size=5000)
        stamps.bump(stamps.POSTCODES)
        delivery_changed()
    return len(rows)


def rush_addresses(hot_stores: list[Store], *, count: int = 50) -> list[DeliveryAddress]:
    """Addresses near the hot stores (as many near each as `count` shares out), in postcodes each
    hot store is the nearest store to, or else among the nearest: the delivery checkout offers
    the nearest few stores that deliver (CHECKOUT_STORES_SHOWN), as a shopper orders from the
    stores near her. All inside the hot stores' rush zones (their whole country)."""
    rng = random.Random(11)
    near = []
    for store in hot_stores:
        located = PostcodeLocation.objects.filter(country=store.country).values_list(
            "postcode", "latitude", "longitude"
        )
        by_distance = sorted(
            located,
            key=lambda row: distance_km(store.latitude, store.longitude, row[1], row[2]),
        )
        near.append((store, [postcode for postcode, _lat, _lon in by_distance[:5]]))
    addresses = []
    for number in range(count):
        store, postcodes = near[number % len(near)]
        addresses.append(
            DeliveryAddress(
                street=f"Rush Street {number + 1}",
                postcode=rng.choice(postcodes),
                city="Oslo" if store.country == "NO" else "Reykjavík",
                country=store.country,
            )
        )
    return addresses


def measure_lookup(*, lookups: int = 500, rng: random.Random | None = None) -> dict:
    """delivery_options for `lookups` random postcodes of the table, each timed (the directory
    built beforehand, timed on its own), as the delivery checkout asks it."""
    rng = rng or random.Random(2026)
    forget_directory()
    began = time.perf_counter()
    directory = delivery_directory()
    build_seconds = time.perf_counter() - began
    postcodes = sorted(directory.postcodes)
    timings, found, uncovered = [], [], 0
    for _number in range(lookups):
        country, postcode = rng.choice(postcodes)
        order_value = Decimal(rng.randrange(1000, 40_000, 100))
        began = time.perf_counter()
        try:
            lookup = delivery_options(postcode=postcode, country=country, order_value=order_value)
        except PostcodeProblem:
            uncovered += 1
            timings.append(time.perf_counter() - began)
            continue
        timings.append(time.perf_counter() - began)
        found.append(len(lookup.options))
    timings.sort()
    return {
        "stores": Store.objects.count(),
        "zones": DeliveryZone.objects.count(),
        "windows": DeliveryWindow.objects.count(),
        "postcodes": len(postcodes),
        "lookups": lookups,
        "uncovered": uncovered,
        "stores_found_mean": statistics.mean(found) if found else 0,
        "build_ms": build_seconds * 1000,
        "p50_ms": _percentile(timings, 50) * 1000,
        "p95_ms": _percentile(timings, 95) * 1000,
        "p99_ms": _percentile(timings, 99) * 1000,
    }


class _Report:
    def __init__(self):
        self.problems = []


def overbooked_windows() -> list[str]:
    """Every delivery window from yesterday on that holds more deliveries than its places,
    counted as check_integrity counts them (overlapping windows included)."""
    report = _Report()
    check_deliveries(report)
    return [problem for problem in report.problems if "delivery window" in problem]


def _percentile(sorted_values, pct):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]
