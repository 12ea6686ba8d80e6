"""A variant attribute's slug names its filter in the listing's address (?size=m), so the names
the listing reads for itself are reserved (catalog.models.RESERVED_ATTRIBUTE_SLUGS)."""

import re
from pathlib import Path

from catalog.models import RESERVED_ATTRIBUTE_SLUGS
from storefront.catalog_forms import ListingForm

VIEWS = Path(__file__).resolve().parents[1] / "catalog_views.py"


def test_every_name_the_listing_reads_is_reserved_from_attributes():
    # the names the views read from the address, and the listing form's fields
    read_by_views = set(re.findall(r"request\.GET(?:\.get|\.getlist)?\(\s*[\"']([a-z_]+)[\"']", VIEWS.read_text()))
    read_by_views |= set(re.findall(r"[\"']([a-z_]+)[\"']\s+in\s+request\.GET", VIEWS.read_text()))
    assert {"q", "page", "category"} <= read_by_views  # the pattern still finds them
    # are all names no attribute may take
    assert read_by_views | set(ListingForm.base_fields) <= RESERVED_ATTRIBUTE_SLUGS
