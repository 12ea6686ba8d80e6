"""Importing stock counts from a CSV file: store (slug), sku, on_hand.

All or nothing: every row is checked first (an unknown store or SKU, a store outside the
importer's own, a count that is not a whole number or is negative, the same store and SKU twice,
a count below the units reserved for open orders), each check on every row, and then again
under row locks against the reserved units; one bad row rejects the file with every problem
listed, by line. The command (any store) and the admin's upload (a manager's own stores) both
come here. A good file is written in bulk through stores.services.set_stock_counts.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Product
from o2o_site.csv_import import ImportRejected, RowError, decode_csv, extra_values_problem, read_csv

from . import services
from .models import StockLevel, Store

REQUIRED_COLUMNS = ("store", "sku", "on_hand")
MAX_COUNT = 2_000_000_000  # fits the database's integer column with room to spare


@dataclass(frozen=True)
class StockImportResult:
    updated: int
    created: int

    @property
    def total(self):
        return self.updated + self.created


def _count(raw, problems):
    text = (raw or "").strip()
    if not text.isascii() or not text.lstrip("-").isdigit():
        problems.append(_("on hand %(value)r is not a whole number") % {"value": raw})
        return None
    value = int(text)
    if value < 0:
        problems.append(_("on hand %(value)s cannot be negative") % {"value": value})
        return None
    if value > MAX_COUNT:
        problems.append(_("on hand %(value)s is not a plausible count") % {"value": value})
        return None
    return value


def validate_stock_rows(
    rows: Iterable[Mapping], *, start_line: int = 2, stores: QuerySet[Store] | None = None
) -> dict[tuple[int, int], tuple[int, int]]:
    """{(store id, product id): (on hand, line)} for every row, or ImportRejected with all bad rows.

    Each check runs on every row whatever else is wrong in the file, so one rejection names every
    bad row: a row naming a store and SKU already named is a duplicate even when the first one
    was bad too, and each count is compared with the units reserved now (set_stock_counts checks
    again under row locks). `stores`, when given, are the only stores the file may count (a
    manager's own); None means any.
    """
    rows = list(rows)
    slugs = {(row.get("store") or "").strip() for row in rows}
    store_ids = dict(Store.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    allowed = None if stores is None else set(stores.filter(slug__in=slugs).values_list("pk", flat=True))
    products = dict(
        Product.objects.filter(sku__in={(row.get("sku") or "").strip() for row in rows}).values_list("sku", "pk")
    )
    with_variants = services.products_with_variants(products.values())
    problems_by_line: dict[int, list[str]] = {}
    first_line: dict[tuple[int, int], int] = {}
    candidates: dict[tuple[int, int], tuple[int, int]] = {}
    for index, row in enumerate(rows, start=start_line):
        line = getattr(row, "line", index)  # read_csv's CsvRow knows its line in the file
        problems = problems_by_line.setdefault(line, extra_values_problem(row))
        missing = [column for column in REQUIRED_COLUMNS if not (row.get(column) or "").strip()]
        if missing:
            problems.append(_("missing %(columns)s") % {"columns": ", ".join(missing)})
            continue
        slug, sku = row["store"].strip(), row["sku"].strip()
        store_id, product_id = store_ids.get(slug), products.get(sku)
        if store_id is None:
            problems.append(_("unknown store %(value)r") % {"value": slug})
        elif allowed is not None and store_id not in allowed:
            problems.append(_("store %(value)r is not one of the stores you manage") % {"value": slug})
            store_id = None
        if product_id is None:
            problems.append(_("unknown SKU %(value)r") % {"value": sku})
        on_hand = _count(row["on_hand"], problems)
        if product_id in with_variants and on_hand:
            problems.append(
                _("SKU %(value)r has sizes or other variants: count each variant's SKU instead") % {"value": sku}
            )
        if store_id is None or product_id is None:
            continue
        key = (store_id, product_id)
        if key in first_line:
            problems.append(
                _("%(store)s %(sku)s appears twice (first on line %(first)s)")
                % {"store": slug, "sku": sku, "first": first_line[key]}
            )
            continue
        first_line[key] = line
        if not problems:
            candidates[key] = (on_hand, line)
    for key, reserved in _reserved_units(candidates).items():
        on_hand, line = candidates[key]
        if on_hand < reserved:
            problems_by_line[line].append(_below_reserved(on_hand=on_hand, reserved=reserved))
    errors = [
        RowError(line=line, message=problem) for line, problems in problems_by_line.items() for problem in problems
    ]
    if errors:
        raise ImportRejected(errors)
    return candidates


def _reserved_units(keys: Collection[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """{(store id, product id): units reserved now} for those of `keys` with a stock row: one query."""
    if not keys:
        return {}
    levels = StockLevel.objects.filter(
        store_id__in={store_id for store_id, _product_id in keys},
        product_id__in={product_id for _store_id, product_id in keys},
        reserved__gt=0,
    ).values_list("store_id", "product_id", "reserved")
    return {
        (store_id, product_id): reserved for store_id, product_id, reserved in levels if (store_id, product_id) in keys
    }


def _below_reserved(*, on_hand: int, reserved: int) -> str:
    return ngettext(
        "on hand %(on_hand)s is less than the %(reserved)s unit reserved for open orders",
        "on hand %(on_hand)s is less than the %(reserved)s units reserved for open orders",
        reserved,
    ) % {"on_hand": on_hand, "reserved": reserved}


def import_stock(
    *,
    rows: Iterable[Mapping],
    stores: QuerySet[Store] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StockImportResult:
    """Validate every row, then write all counts at once (or raise ImportRejected and write nothing).

    `stores`: the only stores the rows may count (a manager's own, in the admin); None for any."""
    checked = validate_stock_rows(rows, stores=stores)
    try:
        updated, created = services.set_stock_counts(
            counts={key: on_hand for key, (on_hand, _line) in checked.items()}, progress=progress
        )
    except services.StockCountsRefused as refused:
        # Reserved for an order between the check above and the locked write.
        raise ImportRejected(
            RowError(
                line=checked[(below.store_id, below.product_id)][1],
                message=_below_reserved(on_hand=below.on_hand, reserved=below.reserved),
            )
            for below in refused.refused
        ) from refused
    return StockImportResult(updated=updated, created=created)


def import_stock_csv(
    *, data: bytes, stores: QuerySet[Store] | None = None, progress: Callable[[int, int], None] | None = None
) -> StockImportResult:
    """Import the bytes of a UTF-8 CSV file with the header store,sku,on_hand (the admin's upload)."""
    return import_stock(rows=read_csv(decode_csv(data), required=REQUIRED_COLUMNS), stores=stores, progress=progress)


def import_stock_file(*, path: str | Path, progress=None) -> StockImportResult:
    """Import a UTF-8 CSV file with the header store,sku,on_hand (manage.py import_stock): any store."""
    return import_stock_csv(data=Path(path).read_bytes(), progress=progress)
