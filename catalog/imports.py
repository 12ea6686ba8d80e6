"""Importing the catalog from a CSV file: sku, name, category (slug), price, description, active,
vat_class (standard or reduced: food and drink; blank keeps a known product's class and makes a new
one standard).

Variants (sizes, colours: catalog.services) are rows with a `parent_sku`, the SKU of their
product (a row of the same file or a product already sold), and a column per variant attribute
named by the attribute's slug (`size`, `colour`), holding a value of it (its slug, or its text
in any language: "M", "grey", "Grár"). A variant row's name, category, description and VAT class
are its product's (left blank, ignored if given); a blank price is the product's.

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
    read_decimal,
    read_yes_no,
    write_in_batches,
)
from o2o_site.money import validate_price

from .models import Category, Product, VariantAttribute, VatClass
from .services import catalog_changed, refresh_variants, save_variant

COLUMNS = ("sku", "name", "category", "price", "description", "active", "vat_class", "parent_sku")
REQUIRED_COLUMNS = ("sku", "name", "category", "price")
SKU_MAX = Product._meta.get_field("sku").max_length
NAME_MAX = Product._meta.get_field("name").max_length
PRICE_MAX = Decimal("9999999999.99")  # max_digits=12, decimal_places=2


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
    price = _checked_price(row["price"], problems, row=row)
    active = _checked_active(row, problems)
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
        "price": price,
        "description": (row.get("description") or "").strip(),
        "is_active": active,
    }
    if vat_class:
        values["vat_class"] = vat_class
    return values, []


def _checked_price(text: str, problems: list[str], *, row: Mapping) -> Decimal | None:
    """The price in `text` (two decimals; a decimal comma in a file separated by ';':
    read_decimal), or None with what is wrong added to `problems`."""
    try:
        price = read_decimal(text, row=row)
    except InvalidOperation:
        problems.append(
            _("price %(value)r is not a number: write it as 1234.50 (or 1234,50 in a file separated by ';')")
            % {"value": text}
        )
        return None
    if not price.is_finite() or price < 0 or price > PRICE_MAX:
        problems.append(_("price %(value)s must be between 0 and %(max)s") % {"value": text, "max": PRICE_MAX})
        return None
    if price != price.quantize(Decimal("0.01")):
        problems.append(_("price %(value)s has more than two decimals") % {"value": text})
        return None
    try:
        validate_price(price)  # payable in the shop's currency: 100.50 is refused in ISK
    except ValidationError as refused:
        problems.extend(refused.messages)
        return None
    return price.quantize(Decimal("0.01"))


def _checked_active(row: Mapping, problems: list[str]) -> bool:
    """The row's `active` (blank is yes), or False with what is wrong added to `problems`."""
    text = row.get("active") or ""
    if not text.strip():
        return True
    active = read_yes_no(text)
    if active is None:
        problems.append(_("active %(value)r must be yes or no (já or nei, ja or nei)") % {"value": text})
        return False
    return active


class AttributeValues:
    """The variant attributes, each found by its slug (the column's name), and each one's values
    by slug or by text in any language, case aside: one query."""

    def __init__(self):
        self.attributes = {
            attribute.slug: attribute for attribute in VariantAttribute.objects.prefetch_related("values")
        }
        self._values = {}
        for slug, attribute in self.attributes.items():
            found = self._values[slug] = {}
            for value in attribute.values.all():
                for text in (value.slug, value.value_en, value.value_is, value.value_nb):
                    if text:
                        found.setdefault(text.strip().lower(), value)

    def given(self, row: Mapping) -> dict[str, str]:
        """{attribute slug: the text in its column} of the row's non-blank attribute columns."""
        return {slug: text for slug in self.attributes if (text := (row.get(slug) or "").strip())}

    def find(self, slug: str, text: str):
        return self._values[slug].get(text.lower())

    def known(self, slug: str) -> str:
        return ", ".join(value.value for value in self.attributes[slug].values.all())


def _checked_variant_row(row: Mapping, attributes: AttributeValues) -> tuple[dict | None, list[str]]:
    problems = extra_values_problem(row)
    sku, parent_sku = (row.get("sku") or "").strip(), row["parent_sku"].strip()
    if not sku:
        return None, [*problems, _("missing %(columns)s") % {"columns": "sku"}]
    if len(sku) > SKU_MAX:
        problems.append(_("SKU is longer than %(max)s characters") % {"max": SKU_MAX})
    if parent_sku == sku:
        problems.append(_("a variant cannot be its own product (parent_sku is its SKU)"))
    given = attributes.given(row)
    if not given:
        problems.append(
            _("a variant needs a value in a variant attribute column (%(columns)s)")
            % {"columns": ", ".join(attributes.attributes) or _("none defined: add attributes in the admin first")}
        )
    values = []
    for slug, text in given.items():
        value = attributes.find(slug, text)
        if value is None:
            problems.append(
                _("unknown %(attribute)s %(value)r (known: %(known)s)")
                % {"attribute": slug, "value": text, "known": attributes.known(slug)}
            )
        else:
            values.append(value)
    price_text = (row.get("price") or "").strip()
    price = _checked_price(price_text, problems, row=row) if price_text else None
    active = _checked_active(row, problems)
    if problems:
        return None, problems
    return {
        "sku": sku,
        "parent_sku": parent_sku,
        "values": values,
        "price": price,
        "is_active": active,
    }, []


def _checked_variants(checked: list[dict], lines: dict[str, int]) -> list[RowError]:
    """What rows cannot tell alone: each variant's product is a product (in the file or sold
    already, and not a variant), and no product gets two variants with the same values."""
    errors = []
    in_file = {values["sku"]: values for values in checked}
    variants = [values for values in checked if "parent_sku" in values]
    known = dict(
        Product.objects.filter(sku__in={values["parent_sku"] for values in variants}).values_list("sku", "parent_id")
    )
    combinations = {}
    for values in variants:
        line, parent_sku = lines[values["sku"]], values["parent_sku"]
        parent_row = in_file.get(parent_sku)
        if parent_row is not None:
            if "parent_sku" in parent_row:
                errors.append(
                    RowError(line=line, message=_("product %(sku)s is itself a variant") % {"sku": parent_sku})
                )
                continue
        elif parent_sku not in known:
            errors.append(RowError(line=line, message=_("unknown product %(sku)s in parent_sku") % {"sku": parent_sku}))
            continue
        elif known[parent_sku] is not None:
            errors.append(RowError(line=line, message=_("product %(sku)s is itself a variant") % {"sku": parent_sku}))
            continue
        key = (parent_sku, frozenset(value.pk for value in values["values"]))
        if key in combinations:
            errors.append(
                RowError(
                    line=line,
                    message=_("the same values as the variant on line %(first)s of %(sku)s")
                    % {"first": combinations[key], "sku": parent_sku},
                )
            )
        else:
            combinations[key] = line
    return errors


def validate_catalog_rows(rows: Iterable[Mapping], *, start_line=2) -> list[dict]:
    """Every row checked; returns field values or raises ImportRejected with all the bad rows."""
    categories = {category.slug: category for category in Category.objects.all()}
    attributes = AttributeValues()
    errors, checked, first_seen = [], [], {}
    for index, row in enumerate(rows, start=start_line):
        line = getattr(row, "line", index)  # read_csv's CsvRow knows its line in the file
        if (row.get("parent_sku") or "").strip():
            values, problems = _checked_variant_row(row, attributes)
        else:
            values, problems = _checked_row(row, categories)
            if given := attributes.given(row):
                problems.append(
                    _("%(columns)s given without a parent_sku: a variant names its product there")
                    % {"columns": ", ".join(given)}
                )
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
            if "parent_sku" in values:
                values["line"] = line
            checked.append(values)
    errors.extend(_checked_variants(checked, first_seen))
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
    variant_rows = [values for values in checked if "parent_sku" in values]
    product_rows = [values for values in checked if "parent_sku" not in values]
    # The file's names and descriptions are the shop's English (default-language) texts.
    with translation.override("en"), transaction.atomic():
        existing = {
            product.sku: product
            for product in Product.objects.select_for_update().filter(sku__in=[values["sku"] for values in checked])
        }
        taken = set(Product.objects.values_list("slug", flat=True))
        new, changed, unchanged = [], [], 0
        for values in product_rows:
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
        for product in changed:
            refresh_variants(parent=product)  # their names, category and VAT class follow
        variants = _import_variants(variant_rows, existing)
        catalog_changed()
    return CatalogImportResult(
        created=len(new) + variants.created,
        updated=len(changed) + variants.updated,
        unchanged=unchanged + variants.unchanged,
    )


def _import_variants(rows: list[dict], existing: dict[str, Product]) -> CatalogImportResult:
    """Create or update the variant rows (after their products), through catalog.services."""
    parents = {
        product.sku: product for product in Product.objects.filter(sku__in={values["parent_sku"] for values in rows})
    }
    known_values = {}
    for product_id, value_id in Product.attribute_values.through.objects.filter(
        product_id__in=[existing[values["sku"]].pk for values in rows if values["sku"] in existing]
    ).values_list("product_id", "variantattributevalue_id"):
        known_values.setdefault(product_id, set()).add(value_id)
    created = updated = unchanged = 0
    errors = []
    for values in rows:
        parent, variant = parents[values["parent_sku"]], existing.get(values["sku"])
        if variant is None:
            variant = Product(sku=values["sku"])
            created += 1
        elif variant.parent_id not in (None, parent.pk) or (variant.parent_id is None and variant.variants.exists()):
            errors.append(
                RowError(
                    line=values["line"],
                    message=_("%(sku)s has variants or is a variant of another product") % {"sku": values["sku"]},
                )
            )
            continue
        elif (
            variant.parent_id == parent.pk
            and variant.is_active == values["is_active"]
            and (values["price"] is None or variant.price == values["price"])
            and known_values.get(variant.pk, set()) == {value.pk for value in values["values"]}
        ):
            unchanged += 1
            continue
        else:
            updated += 1
        variant.is_active = values["is_active"]
        try:
            save_variant(parent=parent, variant=variant, values=values["values"], price=values["price"])
        except ValidationError as refused:
            errors.extend(RowError(line=values["line"], message=message) for message in refused.messages)
    if errors:
        raise ImportRejected(errors)  # inside the import's transaction: nothing is written
    return CatalogImportResult(created=created, updated=updated, unchanged=unchanged)


def import_catalog_file(*, path: str | Path, progress=None) -> CatalogImportResult:
    """Import a UTF-8 CSV file with the header sku,name,category,price,description,active (and
    vat_class, parent_sku and the variant attributes' columns: the module's docstring)."""
    text = decode_csv(Path(path).read_bytes())
    return import_catalog(rows=read_csv(text, required=REQUIRED_COLUMNS), progress=progress)
