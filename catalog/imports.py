"""Importing the catalog from a CSV file: sku, name, category (slug), price, description, active,
vat_class (standard or reduced: food and drink; blank keeps a known product's class and makes a new
one standard).

All or nothing, like the postcode import: every row is checked first (missing values, a price
that is not a number, is negative or cannot be paid in the shop's currency — 100.50 in ISK —, an
unknown category, the same SKU twice, …) and one bad row rejects the file with every problem
listed. A good file is applied in one transaction: products are matched by SKU; new ones are
created, known ones get the file's values. Prices are Decimal.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from o2o_site.csv_import import (
    ImportRejected,
    RowError,
    decode_csv,
    extra_values_problem,
    read_csv,
    write_in_batches,
)
from o2o_site.money import validate_price

from .models import Category, Product, VatClass
from .services import catalog_changed

COLUMNS = ("sku", "name", "category", "price", "description", "active", "vat_class")
REQUIRED_COLUMNS = ("sku", "name", "category", "price")
SKU_MAX = Product._meta.get_field("sku").max_length
NAME_MAX = Product._meta.get_field("name").max_length
PRICE_MAX = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
TRUE_VALUES, FALSE_VALUES = {"", "1", "true", "yes", "y"}, {"0", "false", "no", "n"}


@dataclass(frozen=True)
class CatalogImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self):
        return self.created + self.updated + self.unchanged


def _checked_row(row: Mapping, categories: dict) -> tuple[dict | None, list[str]]:
    problems = extra_values_problem(row)
    missing = [column for column in REQUIRED_COLUMNS if not (row.get(column) or "").strip()]
    if missing:
        return None, [*problems, _("missing %(columns)s") % {"columns": ", ".join(missing)}]
    sku = row["sku"].strip()
    if len(sku) > SKU_MAX:
        problems.append(_("SKU is longer than %(max)s characters") % {"max": SKU_MAX})
    name = " ".join(row["name"].split())
    if len(name) > NAME_MAX:
        problems.append(_("name is longer than %(max)s characters") % {"max": NAME_MAX})
    category = categories.get(row["category"].strip())
    if category is None:
        problems.append(_("unknown category %(value)r") % {"value": row["category"].strip()})
    try:
        price = Decimal(row["price"].strip())
    except InvalidOperation:
        price = None
        problems.append(_("price %(value)r is not a number") % {"value": row["price"]})
    if price is not None:
        if not price.is_finite() or price < 0 or price > PRICE_MAX:
            problems.append(
                _("price %(value)s must be between 0 and %(max)s") % {"value": row["price"], "max": PRICE_MAX}
            )
        elif price != price.quantize(Decimal("0.01")):
            problems.append(_("price %(value)s has more than two decimals") % {"value": row["price"]})
        else:
            try:
                validate_price(price)  # payable in the shop's currency: 100.50 is refused in ISK
            except ValidationError as refused:
                problems.extend(refused.messages)
    active = (row.get("active") or "").strip().lower()
    if active not in TRUE_VALUES | FALSE_VALUES:
        problems.append(_("active %(value)r must be yes or no") % {"value": row.get("active")})
    vat_class = (row.get("vat_class") or "").strip().lower()
    if vat_class and vat_class not in VatClass.values:
        problems.append(
            _("VAT class %(value)r must be one of %(classes)s")
            % {"value": row.get("vat_class"), "classes": ", ".join(VatClass.values)}
        )
    if problems:
        return None, problems
    values = {
        "sku": sku,
        "name": name,
        "category": category,
        "price": price.quantize(Decimal("0.01")),
        "description": (row.get("description") or "").strip(),
        "is_active": active in TRUE_VALUES,
    }
    if vat_class:
        values["vat_class"] = vat_class
    return values, []


def validate_catalog_rows(rows: Iterable[Mapping], *, start_line=2) -> list[dict]:
    """Every row checked; returns field values or raises ImportRejected with all the bad rows."""
    categories = {category.slug: category for category in Category.objects.all()}
    errors, checked, first_seen = [], [], {}
    for line, row in enumerate(rows, start=start_line):
        values, problems = _checked_row(row, categories)
        sku = (row.get("sku") or "").strip()
        if sku:
            if sku in first_seen:
                problems.append(
                    _("SKU %(sku)s appears twice (first on line %(first)s)") % {"sku": sku, "first": first_seen[sku]}
                )
            else:
                first_seen[sku] = line
        errors.extend(RowError(line=line, message=problem) for problem in problems)
        if not problems:
            checked.append(values)
    if errors:
        raise ImportRejected(errors)
    return checked


def _unique_slug(name, sku, taken):
    base = slugify(f"{name}-{sku}")[:200] or slugify(sku) or "product"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


FIELDS = ("name", "category", "price", "description", "is_active", "vat_class")


def import_catalog(
    *, rows: Iterable[Mapping], progress: Callable[[int, int], None] | None = None
) -> CatalogImportResult:
    """Validate every row, then create or update the products in one transaction (or write nothing)."""
    checked = validate_catalog_rows(rows)
    # The file's names and descriptions are the shop's English (default-language) texts.
    with translation.override("en"), transaction.atomic():
        existing = {
            product.sku: product
            for product in Product.objects.select_for_update().filter(sku__in=[values["sku"] for values in checked])
        }
        taken = set(Product.objects.values_list("slug", flat=True))
        new, changed, unchanged = [], [], 0
        for values in checked:
            product = existing.get(values["sku"])
            # A blank VAT class keeps the product's own (new ones get the model's default).
            given = [field for field in FIELDS if field in values]
            if product is None:
                new.append(Product(slug=_unique_slug(values["name"], values["sku"], taken), **values))
            elif any(getattr(product, field) != values[field] for field in given):
                for field in given:
                    setattr(product, field, values[field])
                changed.append(product)
            else:
                unchanged += 1
        write_in_batches(
            [
                (new, Product.objects.bulk_create),
                (changed, partial(Product.objects.bulk_update, fields=[*FIELDS, "name_en", "description_en"])),
            ],
            progress=progress,
        )
        catalog_changed()
    return CatalogImportResult(created=len(new), updated=len(changed), unchanged=unchanged)


def import_catalog_file(*, path: str | Path, progress=None) -> CatalogImportResult:
    """Import a UTF-8 CSV file with the header sku,name,category,price,description,active."""
    text = decode_csv(Path(path).read_bytes())
    return import_catalog(rows=read_csv(text, required=REQUIRED_COLUMNS), progress=progress)
