"""Importing stock counts from a CSV file: store (slug), sku, on_hand.

All or nothing: every row is checked first (an unknown store or SKU, a count that is not a
whole number or is negative, the same store and SKU twice) and then, under row locks, against
the units reserved for open orders; one bad row rejects the file with every problem listed, by
line. A good file is written in bulk through stores.services.set_stock_counts.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Product
from o2o_site.csv_import import ImportRejected, RowError, decode_csv, extra_values_problem, read_csv

from . import services
from .models import Store

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


def validate_stock_rows(rows: Iterable[Mapping], *, start_line=2) -> dict[tuple[int, int], tuple[int, int]]:
    """{(store id, product id): (on hand, line)} for every row, or ImportRejected with all bad rows."""
    rows = list(rows)
    stores = {
        store.slug: store.pk
        for store in Store.objects.filter(slug__in={(row.get("store") or "").strip() for row in rows})
    }
    products = dict(
        Product.objects.filter(sku__in={(row.get("sku") or "").strip() for row in rows}).values_list("sku", "pk")
    )
    with_variants = services.products_with_variants(products.values())
    errors, counts = [], {}
    for index, row in enumerate(rows, start=start_line):
        line = getattr(row, "line", index)  # read_csv's CsvRow knows its line in the file
        problems = extra_values_problem(row)
        missing = [column for column in REQUIRED_COLUMNS if not (row.get(column) or "").strip()]
        if missing:
            problems.append(_("missing %(columns)s") % {"columns": ", ".join(missing)})
        else:
            slug, sku = row["store"].strip(), row["sku"].strip()
            store_id, product_id = stores.get(slug), products.get(sku)
            if store_id is None:
                problems.append(_("unknown store %(value)r") % {"value": slug})
            if product_id is None:
                problems.append(_("unknown SKU %(value)r") % {"value": sku})
            on_hand = _count(row["on_hand"], problems)
            if product_id in with_variants and on_hand:
                problems.append(
                    _("SKU %(value)r has sizes or other variants: count each variant's SKU instead") % {"value": sku}
                )
            key = (store_id, product_id)
            if store_id and product_id and key in counts:
                problems.append(
                    _("%(store)s %(sku)s appears twice (first on line %(first)s)")
                    % {"store": slug, "sku": sku, "first": counts[key][1]}
                )
            elif not problems:
                counts[key] = (on_hand, line)
        errors.extend(RowError(line=line, message=problem) for problem in problems)
    if errors:
        raise ImportRejected(errors)
    return counts


def import_stock(*, rows: Iterable[Mapping], progress: Callable[[int, int], None] | None = None) -> StockImportResult:
    """Validate every row, then write all counts at once (or raise ImportRejected and write nothing)."""
    checked = validate_stock_rows(rows)
    try:
        updated, created = services.set_stock_counts(
            counts={key: on_hand for key, (on_hand, _line) in checked.items()}, progress=progress
        )
    except services.StockCountsRefused as refused:
        raise ImportRejected(
            RowError(
                line=checked[(below.store_id, below.product_id)][1],
                message=ngettext(
                    "on hand %(on_hand)s is less than the %(reserved)s unit reserved for open orders",
                    "on hand %(on_hand)s is less than the %(reserved)s units reserved for open orders",
                    below.reserved,
                )
                % {"on_hand": below.on_hand, "reserved": below.reserved},
            )
            for below in refused.refused
        ) from refused
    return StockImportResult(updated=updated, created=created)


def import_stock_file(*, path: str | Path, progress=None) -> StockImportResult:
    """Import a UTF-8 CSV file with the header store,sku,on_hand."""
    text = decode_csv(Path(path).read_bytes())
    return import_stock(rows=read_csv(text, required=REQUIRED_COLUMNS), progress=progress)
