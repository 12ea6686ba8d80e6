"""A zone's postcodes as a manager types them, read in the store's country."""

import pytest
from django.core.exceptions import ValidationError

from delivery.models import ZoneKind
from delivery.tests.factories import DeliveryZoneFactory
from delivery.zones import PostcodeRange, format_postcode_ranges, parse_postcode_ranges
from stores.tests.factories import StoreFactory


def test_icelandic_lists_and_ranges_are_read_in_three_digits():
    ranges = parse_postcode_ranges("101-108, 110;170\n 200 – 203", country="IS")
    assert ranges == (
        PostcodeRange("101", "108"),
        PostcodeRange("110", "110"),
        PostcodeRange("170", "170"),
        PostcodeRange("200", "203"),
    )
    assert "105" in ranges[0]
    assert "109" not in ranges[0]
    assert "1050" not in ranges[0]  # a Norwegian postcode is never inside an Icelandic range


def test_norwegian_postcodes_keep_their_leading_zero():
    (oslo,) = parse_postcode_ranges("0150-0199", country="NO")
    assert "0157" in oslo
    assert "1570" not in oslo


@pytest.mark.parametrize(
    ("typed", "country", "problem"),
    [
        ("10", "IS", "is not a postcode or a range of postcodes of IS"),
        ("1010", "IS", "is not a postcode or a range of postcodes of IS"),
        ("1O1", "IS", "is not a postcode or a range of postcodes of IS"),
        ("150", "NO", "is not a postcode or a range of postcodes of NO"),
        ("108-101", "IS", "a range goes from the lower postcode to the higher"),
        ("101-", "IS", "is not a postcode or a range of postcodes of IS"),
    ],
)
def test_a_typo_is_refused_and_named(typed, country, problem):
    with pytest.raises(ValidationError) as refused:
        parse_postcode_ranges(f"200, {typed}", country=country)
    assert problem in " ".join(refused.value.messages)
    assert typed.strip("-") in " ".join(refused.value.messages)


def test_every_bad_item_is_named_at_once():
    with pytest.raises(ValidationError) as refused:
        parse_postcode_ranges("10, 1O1, 101", country="IS")
    assert len(refused.value.messages) == 2


def test_ranges_are_kept_in_one_spelling():
    assert format_postcode_ranges(parse_postcode_ranges("170, 101 -108,110, 170", country="IS")) == "101-108, 110, 170"


@pytest.mark.django_db
def test_a_zone_is_checked_against_its_stores_country():
    oslo = StoreFactory(country="NO", city="Oslo", time_zone="Europe/Oslo")
    zone = DeliveryZoneFactory.build(store=oslo, postcodes="101-108")
    with pytest.raises(ValidationError) as refused:
        zone.full_clean()
    assert "postcodes" in refused.value.message_dict

    zone.postcodes = "0150 - 0199,0250"
    zone.full_clean()
    assert zone.postcodes == "0150-0199, 0250"


@pytest.mark.django_db
def test_a_zone_needs_postcodes_or_a_radius():
    store = StoreFactory()
    with pytest.raises(ValidationError) as refused:
        DeliveryZoneFactory.build(store=store, postcodes=" , ").full_clean()
    assert "postcodes" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        DeliveryZoneFactory.build(store=store, kind=ZoneKind.RADIUS, postcodes="", radius_km=None).full_clean()
    assert "radius_km" in refused.value.message_dict
